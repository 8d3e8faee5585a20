"""Helpers shared by the command's tests."""

from logreg.cli import main


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``logreg.cli.main(argv)``, argparse's exits included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err
