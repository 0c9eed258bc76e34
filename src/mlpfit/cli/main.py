"""The entry point: run a command, and turn every error into one line and an exit code.

Exit codes: 0 success; 2 bad usage or input (one line on stderr); 1 unexpected failure;
130 interrupted.
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from mlpfit.cli import export, fit, inspection, play, predict, sweep  # noqa: F401 - importing a command module registers it
from mlpfit.cli.app import app
from mlpfit.errors import MlpfitError, MlpfitWarning, printable
from mlpfit.runtime import keep_freed_memory


def main(argv=None) -> None:
    """Run the CLI; never lets a traceback reach a user who made a mistake."""
    if argv is None:  # the program itself: this process is mlpfit's (a caller passing argv keeps its allocator)
        keep_freed_memory()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", MlpfitWarning)  # every time, not once per process (tests run many)
            warnings.showwarning = _warn
            app.main(args=argv, prog_name="mlpfit", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help())  # plain `mlpfit`: the help is the answer, not an error
        sys.exit(0)
    except click.ClickException as err:
        # click's own messages (unknown option, missing argument, not an int) as one line.
        _fail(f"{err.format_message()} (see mlpfit {_command_name(argv)}--help)", 2)
    except click.Abort:
        _fail("interrupted", 130)
    except MlpfitError as err:
        _fail(str(err).replace("\n", " "), err.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as err:  # a bug: say so plainly, keep the traceback for those who ask
        if os.environ.get("MLPFIT_DEBUG"):
            raise
        _fail(f"unexpected {type(err).__name__}: {err} (this is a bug; MLPFIT_DEBUG=1 shows the traceback)", 1)
    sys.exit(0)


def _command_name(argv) -> str:
    args = sys.argv[1:] if argv is None else argv
    return f"{args[0]} " if args and args[0] in app.commands else ""


def _warn(message, category, filename, lineno, file=None, line=None) -> None:
    """mlpfit's own warnings as one line on stderr; other libraries' warnings as Python prints them."""
    if issubclass(category, MlpfitWarning):
        click.echo(f"mlpfit: warning: {printable(str(message).replace(chr(10), ' '))}", err=True)
    else:
        text = warnings.formatwarning(message, category, filename, lineno, line)  # may quote data (a class label)
        sys.stderr.write("\n".join(printable(part) for part in text.split("\n")))


def _fail(message: str, code: int) -> None:
    # Messages quote values from files (a CSV header, a run folder's names): escaped, they cannot drive the terminal.
    click.echo(f"mlpfit: error: {printable(message.replace(chr(10), ' '))}", err=True)
    sys.exit(code)
