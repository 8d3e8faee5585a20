"""What a solver returns (``Fit``), and what Ctrl-C during training raises: shared by
``logreg.solvers`` and ``logreg.newton`` (which solvers calls: the arrow points one way)."""

from dataclasses import dataclass, field


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; carries the last good parameters (``fit``)."""

    def __init__(self, fit):
        super().__init__("training interrupted")
        self.fit = fit


@dataclass
class Fit:
    """What a solver returns: parameters, the cost at each iteration, and how it ended."""

    w: object
    b: object
    costs: list = field(default_factory=list)
    iterations: int = None  # when it differs from len(costs), as for L-BFGS (costs[0]: start)

    @property
    def n_iter(self):
        return len(self.costs) if self.iterations is None else self.iterations
