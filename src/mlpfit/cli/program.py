"""How to name mlpfit in a command printed for the user to paste (the `next:` lines).

`mlpfit` alone only runs where a shell finds this same program on its PATH: after `bash scripts/demo`
nothing has activated `.venv`, so a fresh shell answers "command not found". The printed command
names the program the way it was started instead, so it runs as printed from the same folder.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys


def invoked_as(argv0: str | None = None, executable: str | None = None) -> str:
    """`mlpfit` when that name on PATH is this program; else the path it was started by
    (`.venv/bin/mlpfit`), or `PYTHON -m mlpfit` for `python -m mlpfit`."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    on_path = shutil.which("mlpfit")
    name = os.path.basename(argv0)
    if name == "mlpfit":  # the console script pip installs
        return "mlpfit" if on_path and _same_file(on_path, argv0) else shlex.quote(argv0)
    if name == "__main__.py" and os.path.basename(os.path.dirname(argv0)) == "mlpfit":  # python -m mlpfit
        beside = os.path.join(os.path.dirname(executable), "mlpfit")
        if on_path and _same_file(on_path, beside):
            return "mlpfit"
        return f"{shlex.quote(executable)} -m mlpfit"
    return "mlpfit"  # called from Python (tests, a notebook): the installed command's name


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
