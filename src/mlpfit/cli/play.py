"""``mlpfit play``: the playground, a local web page that trains a network live."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import click

from mlpfit.cli.app import app
from mlpfit.errors import UsageError


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; anything but loopback is warned about.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--runs", "runs_dir", metavar="DIR", default="runs", show_default=True,
              help="Folder where Save writes run folders and /runs lists them; nothing outside it is read or written.")
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
def play(host, port, runs_dir, no_browser):
    """The playground: train a network in the browser and watch every unit learn.

    \b
    Example:
      mlpfit play            then open http://127.0.0.1:8765/?target=sin(3*x)
    """
    try:
        from mlpfit.play.server import serve
    except ImportError as err:
        raise UsageError(f"mlpfit play needs the web packages ({err.name} is missing): pip install \"mlpfit[play]\"") from None
    serve(host, port, runs_dir, open_browser=not no_browser)
