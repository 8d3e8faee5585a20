"""The package's own exceptions.

Every error a user can cause is one of these, with a message that says what was received,
what was expected and how to fix it. They subclass the built-in type that Python and
scikit-learn users already catch (``ValueError`` or ``TypeError``), so ``except ValueError``
keeps working. The command turns any of them into one line on stderr and exit status 2.
"""

from sklearn.exceptions import NotFittedError as _SkNotFittedError


class LogregError(Exception):
    """Base class of every error that logreg raises on purpose."""


class InvalidInputError(LogregError, ValueError):
    """Data with the wrong shape, values, labels or layout."""


class InvalidTypeError(LogregError, TypeError):
    """Data of a kind logreg cannot use at all (strings, complex numbers, objects)."""


class DataFileError(LogregError, ValueError):
    """A data file (.h5, image, CSV, NPZ, folder) that is missing, unreadable or malformed."""


class ModelFileError(LogregError, ValueError):
    """A model file that is missing, truncated, foreign, from a newer format, or inconsistent."""


class OutputError(LogregError, OSError):
    """A place to write results that cannot be written."""


class TrainingDivergedError(LogregError, ArithmeticError):
    """Gradient descent whose cost turned non-finite or kept rising."""


class NotFittedError(LogregError, _SkNotFittedError):
    """A model used before it was trained (also scikit-learn's NotFittedError)."""
