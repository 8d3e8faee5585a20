"""Helpers shared by the command's tests."""

import contextlib
import io

from logreg.apps.cli import main


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``logreg.apps.cli.main(argv)``, argparse's exits included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def run_quietly(argv):
    """(exit status, stdout, stderr) of ``main(argv)`` with its output captured here, usable
    where capsys is not (module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as stop:
            code = stop.code
    return code, out.getvalue(), err.getvalue()


def default_sigint():
    """For ``Popen(preexec_fn=...)``: Ctrl-C's default in the child. A shell that starts a
    test run in the background (``.ci/run &``) ignores SIGINT, children inherit that, and a
    Python started with SIGINT ignored never raises KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_user_error(result, *fragments):
    """Exit status 2, exactly one line on stderr naming the problem, no traceback."""
    code, out, err = result
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    assert lines[0].startswith("logreg") and ": error: " in lines[0], lines[0]
    for fragment in fragments:
        assert str(fragment).lower() in lines[0].lower(), (fragment, lines[0])
    return lines[0]


# `make test` installs PyTorch's CPU-only build where the package index offers one (Makefile)
TORCH_ABSENT = ("PyTorch is not installed: `make test` installs its CPU-only build "
                "(torch==2.13.0+cpu) where the package index offers one, and these tests skip "
                "where it does not")


def import_torch():
    """PyTorch, or a skip of the calling test saying why it is absent."""
    import pytest

    return pytest.importorskip("torch", reason=TORCH_ABSENT)
