"""Gradient descent's divergence rule, judged against the start J₀ (``Divergence``), the words
for a run that diverged (``divergence_message``), and what is raised or warned then.

The rule is fed one cost at a time and keeps a few numbers of state, so the same rule judges a
fit (``logreg.solvers.gradient_descent``), the learning-rate lesson and the playground, which
never ends.
"""

import math

from logreg.errors import InvalidInputError, TrainingDivergedError

RISING_STEPS = 10  # the cost, above its start, rose this many steps in a row
BLOW_UP = 10.0  # the cost stayed above this many times its start...
PATIENCE = 20  # ...for this many steps in a row
WINDOW = 100  # or, above its start, no lower over this many steps than over the ones before
NEAR = 1e-3  # "above its start J₀" means above (1 + NEAR) J₀: rounding and wobbles are not


class FeaturesTooLargeError(InvalidInputError, TrainingDivergedError):
    """A non-finite cost caused by the features' size, not by α: the data's fault (and still
    a ``TrainingDivergedError`` for code that catches that)."""


class DivergenceWarning(UserWarning):
    """Gradient descent diverged; the best parameters seen were kept."""


class Divergence:
    """The divergence rule of gradient descent, fed one cost at a time (``update``).

    On a convex cost, gradient descent with a small enough α lowers J at every step. A larger
    α may make J jump and oscillate for a while and still settle (the exercise's α = 0.01 on
    the cat images peaks near 4.6 × J₀ and is back below J₀ within 20 steps; separable data
    recover from larger jumps), and near the optimum J may wobble by 1e-5 for ever (α = 50 on
    four standardised breast-cancer columns): neither has diverged. Everything is judged
    against the start J₀ (the first cost), never against the lowest cost so far, so nothing
    below the start counts. Gradient descent has diverged when J

    - is not finite;
    - is above J₀ and rose ``RISING_STEPS`` steps in a row (a climb);
    - stayed above ``BLOW_UP`` × J₀ for ``PATIENCE`` steps in a row (a blow-up);
    - stayed above J₀ for 2 × ``WINDOW`` steps in a row or more, the lowest of the last
      ``WINDOW`` no lower than the lowest of the ``WINDOW`` before: an oscillation without
      progress (α = 50 on the playground's circles swings between 3.7 and 5.3 for ever; the
      cats at α = 0.05 stay above J₀ for over 100 steps, but lower and lower, and settle).

    "Above J₀" is above (1 + ``NEAR``) J₀. ``ended`` judges the end of a run too short for
    these (a fit; the playground never ends). Memory: a few numbers, whatever the run's length.

    Attributes
    ----------
    start, lowest : J₀ and the lowest cost so far (None and inf before the first)
    costs : how many costs were fed
    reason : why it diverged, in words ("the cost became inf"); None while it has not
    """

    def __init__(self):
        self.start, self.previous, self.lowest = None, None, math.inf
        self.costs, self.reason = 0, None
        self.rising = self.high = self.above = 0  # steps in a row of each kind
        # the lowest cost of the window of steps above J₀ under way, and of the one before it
        self.window_lowest = self.last_window_lowest = math.inf

    def update(self, cost):
        """Judge one more cost J (a float); True once gradient descent has diverged."""
        if self.start is None:
            self.start = cost
        above = cost > (1 + NEAR) * self.start
        climbing = above and self.previous is not None and cost > self.previous
        self.rising = self.rising + 1 if climbing else 0
        self.high = self.high + 1 if cost > BLOW_UP * self.start else 0
        stuck = False  # a window above J₀ no lower than the one before
        if above:
            self.above += 1
            self.window_lowest = min(self.window_lowest, cost)
            if self.above % WINDOW == 0:
                stuck = self.window_lowest >= self.last_window_lowest
                self.last_window_lowest, self.window_lowest = self.window_lowest, math.inf
        else:  # at or below the start: the windows start again
            self.above, self.window_lowest, self.last_window_lowest = 0, math.inf, math.inf
        self.previous, self.costs, self.lowest = cost, self.costs + 1, min(self.lowest, cost)
        if not math.isfinite(cost):
            self.reason = f"the cost became {cost}"
        elif self.rising >= RISING_STEPS:
            self.reason = (f"the cost rose {RISING_STEPS} steps in a row above its start "
                           f"{self.start:.6g}, to {cost:.6g}")
        elif self.high >= PATIENCE:
            self.reason = (f"the cost stayed above {BLOW_UP:g} times its start "
                           f"{self.start:.6g} for {PATIENCE} steps (now {cost:.6g})")
        elif stuck:
            self.reason = (f"the cost stayed above its start {self.start:.6g} for "
                           f"{self.above} steps, its lowest over the last {WINDOW} "
                           f"({self.last_window_lowest:.6g}) no lower than over the {WINDOW} "
                           f"before (now {cost:.6g})")
        return self.reason is not None

    def ended(self):
        """True when the run ended above ``BLOW_UP`` times its lowest cost and above its start
        (α too large, even when the run was too short for ``update``'s rules: α = 1e18 for 5
        steps; a run that jumps and settles below its start, as the cats at α = 0.01, is not).
        Sets ``reason``."""
        last = self.previous
        if self.costs > 1 and last > BLOW_UP * self.lowest and last > (1 + NEAR) * self.start:
            self.reason = (f"the cost ended at {last:.6g}, above {BLOW_UP:g} times its lowest "
                           f"value {self.lowest:.6g} and above its start {self.start:.6g}")
        return self.reason is not None


def divergence_message(reason, iteration, learning_rate,
                       also="(or learning_rate='auto'), or standardise the features"):
    """The words for a run that diverged at ``iteration`` for ``reason`` (``Divergence``'s),
    with what to do: a smaller α, and ``also`` (the other fixes where they apply)."""
    return (f"gradient descent diverged at iteration {iteration}: {reason}, with learning "
            f"rate {learning_rate:g}. Expected a falling cost: try a smaller learning rate, "
            f"such as {learning_rate / 10:g}{' ' + also if also else ''}.")

