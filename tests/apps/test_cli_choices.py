"""The command's choices are the registries' own, never a second list: --solver from
logreg.solvers.SOLVERS, --implementation, --backprop and --dtype from the engine table (what the
estimator accepts), the built-in data sets from logreg.data, --engine from the trainers `train`
dispatches to, evaluate's --format from the formats logreg.model.pictures writes."""

import argparse

import pytest

from logreg import engines
from logreg.apps.cli import build_parser
from logreg.apps.cli.train import TRAINERS
from logreg.data import BUILT_IN, BUILT_IN_IMAGES
from logreg.errors import InvalidInputError
from logreg.model import pictures
from logreg.model.estimator import LogisticRegression
from logreg.solvers import SOLVERS


def options(command):
    """{option string: argparse action} of one sub-command of ``logreg``."""
    (commands,) = [action for action in build_parser()._actions
                   if isinstance(action, argparse._SubParsersAction)]
    return {name: action for action in commands.choices[command]._actions
            for name in action.option_strings}


REGISTRIES = [("--solver", "solver", SOLVERS), ("--implementation", "implementation",
                                                 engines.IMPLEMENTATIONS),
              ("--backprop", "backprop", engines.BACKPROPS), ("--dtype", "dtype", engines.DTYPES)]


@pytest.mark.parametrize("option, parameter, registry", REGISTRIES)
def test_train_choices_are_the_registries_keys(option, parameter, registry):
    action = options("train")[option]
    assert list(action.choices) == list(registry)
    assert action.default in registry


@pytest.mark.parametrize("option, parameter, registry", REGISTRIES)
def test_train_choices_are_what_the_estimator_accepts(option, parameter, registry):
    accepted = set().union(*(getattr(constraint, "options", set()) for constraint in
                             LogisticRegression._parameter_constraints[parameter]))
    assert set(options("train")[option].choices) == accepted


@pytest.mark.parametrize("command", ["train", "rates"])
def test_the_built_in_sets_offered_are_logreg_data_s(command):
    action = options(command)["--data"]
    assert action.default in BUILT_IN and set(BUILT_IN_IMAGES) <= set(BUILT_IN)
    for name, description in BUILT_IN.items():
        assert f"'{name}' ({description})" in action.help


def test_train_engines_are_the_trainers_train_dispatches_to():
    action = options("train")["--engine"]
    assert list(action.choices) == list(TRAINERS) and action.default in TRAINERS
    # each out-of-core engine is a row of the engine table that reads that library's arrays
    for name in set(TRAINERS) - {"numpy"}:
        assert name in engines.ENGINES[name].libraries


def test_evaluate_formats_are_the_ones_the_pictures_module_writes(tmp_path):
    action = options("evaluate")["--format"]
    assert list(action.choices) == list(pictures.FORMATS) and action.default is None
    for format in pictures.FORMATS:
        assert pictures.picture_names(format=format)[0].endswith(f".{format}")
    with pytest.raises(InvalidInputError, match="format 'jpeg'"):
        pictures.picture_names(format="jpeg")
