"""The solvers' specs (``logreg.solvers.SOLVERS``): one per solver, keyed by its name, and the
engine table (a layer below, with its own copy) agreeing on what each needs from an engine."""

from logreg import engines, solvers


def test_the_engine_table_and_the_specs_agree_on_what_each_solver_needs():
    assert {spec.name: spec.needs for spec in solvers.SOLVERS.values()} == engines.SOLVER_NEEDS
    assert engines.SOLVERS == tuple(solvers.SOLVERS)


def test_each_spec_is_keyed_by_its_name_and_names_its_function():
    for name, spec in solvers.SOLVERS.items():
        assert spec.name == name and callable(spec.function)
    assert solvers.SOLVERS["gd"].function is solvers.gradient_descent
    assert solvers.SOLVERS["lbfgs"].function is solvers.lbfgs
    assert solvers.SOLVERS["newton"].function is solvers.trust_region.newton


def test_only_gradient_descent_takes_a_learning_rate_and_runs_every_step_by_default():
    assert [name for name, spec in solvers.SOLVERS.items() if spec.takes_learning_rate] == ["gd"]
    assert {name: spec.tol for name, spec in solvers.SOLVERS.items()} == {
        "gd": 0.0, "lbfgs": 1e-6, "newton": 1e-10}
