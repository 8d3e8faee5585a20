"""How a command ends besides success: a closed pipe (exit 141), stdout that refuses the output
(one line on stderr, exit 2), and warnings as one line on stderr. ``logreg.apps.cli.main``
uses these around every sub-command."""

import contextlib
import os
import sys
import warnings

PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a program stopped by a closed pipe


def pipe_closed():
    """The reader of stdout left (``logreg predict ... | head -1``): stop quietly.

    As the Python documentation recommends (library/signal.html, "Note on SIGPIPE"): point
    stdout at /dev/null, so that the flush at exit cannot raise again and print "Exception
    ignored", and exit with 141, as a program ended by SIGPIPE does: the output was cut short.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is no file (e.g. captured)
        pass
    return PIPE_CLOSED


class StdoutError(OSError):
    """stdout refused what was printed (a full disk, an I/O error), told apart from the other
    OSErrors a command may meet; the original error is its ``__cause__``."""


class _Stdout:
    """sys.stdout as it was, whose write errors other than a closed pipe are StdoutErrors."""

    def __init__(self, stream):
        self._stream = stream

    def _call(self, name, *args):
        try:
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            raise  # a reader that left: pipe_closed's, exit 141
        except OSError as error:
            raise StdoutError(error.errno, error.strerror) from error

    def write(self, text):
        return self._call("write", text)

    def writelines(self, lines):
        return self._call("writelines", lines)

    def flush(self):
        return self._call("flush")

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def stdout_errors_told_apart():
    """For the ``with`` block: sys.stdout's write errors other than a closed pipe raised as
    ``StdoutError``, told apart from the command's own OSErrors."""
    original = sys.stdout
    sys.stdout = _Stdout(original)
    try:
        yield
    finally:
        sys.stdout = original


def stdout_failed(prog, error):
    """stdout refused the output (``> /dev/full``): one line on stderr, exit status 2, and
    stdout pointed at /dev/null so that the flush at exit does not fail again."""
    print(f"{prog}: error: cannot write the output to stdout ({error.strerror or error}); "
          f"free some space or send the output elsewhere.", file=sys.stderr)
    pipe_closed()
    return 2


@contextlib.contextmanager
def warnings_on_one_line(command):
    """Warnings (L-BFGS stopping early, a learning rate that diverged) as one line on stderr,
    "logreg COMMAND: warning: ...", not Python's two lines with a source line of logreg's."""
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"logreg {command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
