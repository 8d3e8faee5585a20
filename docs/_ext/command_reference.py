"""The command's parser, for sphinx-argparse: ``logreg.apps.cli.build_parser`` with its texts escaped.

sphinx-argparse reads every help text as reStructuredText, where the command's plain words mean
markup (``|x|`` a substitution, ``*`` emphasis). The texts are escaped here, nothing else is
changed, so the reference is still the parser's own.
"""

import argparse
import re

from logreg.apps.cli import build_parser

_MARKUP = re.compile(r"([\\*`|_])")


def _escape(text):
    return _MARKUP.sub(r"\\\1", text) if isinstance(text, str) else text


def _escape_parser(parser):
    parser.description = _escape(parser.description)
    parser.epilog = _escape(parser.epilog)
    for action in parser._actions:
        if action.help is not argparse.SUPPRESS:
            action.help = _escape(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = _escape(choice.help)
            for sub in action.choices.values():
                _escape_parser(sub)
    return parser


def parser():
    """``logreg.apps.cli.build_parser()`` with every help text escaped for reStructuredText."""
    return _escape_parser(build_parser())
