"""Running the command line in-process and reading its one-line answers: what the hostile-input tests share."""

from __future__ import annotations

import pytest

from mlpfit.cli import main as cli


def run_cli(capsys, *args):
    """(exit code, stdout, stderr) of ``mlpfit ARGS``."""
    with pytest.raises(SystemExit) as done:
        cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def one_line(err: str) -> str:
    """The refusal: exactly one line, no traceback, not reported as a bug."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "this is a bug" not in err, err
    return lines[0]
