"""The package's own exceptions.

Every error a user can cause is one of these, with a message that says what was received,
what was expected and how to fix it. They subclass the built-in type that Python and
scikit-learn users already catch (``ValueError`` or ``TypeError``), so ``except ValueError``
keeps working. The command turns any of them into one line on stderr and exit status 2.
"""

__all__ = [  # NotFittedError and InvalidParameterError are made on first use (__getattr__)
    "warn", "LogregError", "InvalidInputError", "InvalidTypeError", "DataFileError",
    "ModelFileError", "OutputError", "TrainingDivergedError", "NotFittedError",  # noqa: F822
    "InvalidParameterError", "InferenceError", "MissingDependencyError",  # noqa: F822
    "InferenceWarning", "ParameterNotSavedWarning",
]


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


def warn(message, category):
    """``warnings.warn`` pointing at the user's line: the first caller outside logreg and
    scikit-learn (whose callback wrapper may or may not stand between, by version)."""
    import sys
    import warnings

    level, frame = 1, sys._getframe(0)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in (
            "logreg", "sklearn"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def __getattr__(name):
    """``NotFittedError`` and ``InvalidParameterError`` are also scikit-learn's; they are made
    on first use, so that importing logreg's errors (every command does) does not import
    scikit-learn."""
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError as ScikitLearnError

        class NotFittedError(LogregError, ScikitLearnError):
            """A model used before it was trained (also scikit-learn's NotFittedError)."""

        made = NotFittedError
    elif name == "InvalidParameterError":
        from sklearn.utils._param_validation import InvalidParameterError as ScikitLearnError

        class InvalidParameterError(InvalidInputError, ScikitLearnError):
            """An estimator setting outside what it accepts (also scikit-learn's
            InvalidParameterError, a ValueError and a TypeError)."""

        made = InvalidParameterError
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made.__module__, made.__qualname__ = __name__, name
    globals()[name] = made
    return made


class InferenceError(LogregError, ValueError):
    """Standard errors, p-values or intervals that would not mean what they say (a penalised
    fit, separated classes, a singular information matrix, parameters not at the maximum)."""


class MissingDependencyError(LogregError, ImportError):
    """An optional package that a feature needs (e.g. pandas for ``to_frame``) is missing."""


class InferenceWarning(UserWarning):
    """Standard errors that were computed but deserve caution (a nearly singular information
    matrix, class weights read as frequency weights)."""


class ParameterNotSavedWarning(UserWarning):
    """A setting that a model file cannot hold as data (a ``callback`` function, a
    ``random_state`` generator) was saved as None; set it again after ``load``."""
