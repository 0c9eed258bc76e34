"""The ``mlpfit`` command group; each command lives in its own module beside this one.

Nothing in cli/ trains or reads data itself: options become a config, the library does the work,
and errors become exit codes (cli/main.py). torch is imported only after every option has been
checked, so ``--help`` and mistakes answer instantly.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mlpfit", prog_name="mlpfit")
def app():
    """Teach a multilayer perceptron a function, and see what it learned.

    \b
    mlpfit fit TARGET        train; writes a run folder (model, history, summary)
    mlpfit predict RUN V...  evaluate the trained model at a point (or --input FILE.csv)
    mlpfit examples          the built-in examples
    mlpfit explain RUN       the layers, the equation of a linear net, weights, dead units
    mlpfit report RUN        redraw the plots and report.html of a run
    mlpfit export RUN        the model as ONNX, or as a .py that needs only NumPy
    mlpfit play              the playground: train in the browser, watch every unit learn
    """
