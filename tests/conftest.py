"""Shared fixtures: the CLI run in-process, and small trained runs that plot, report and CLI tests read."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from matplotlib.image import imread

import fuzzing  # noqa: F401 - loads the hypothesis profile (HYPOTHESIS_PROFILE, default ci: reproducible)

from mlpfit.cli.main import main
from mlpfit.data.sources.images import digits_dataset  # noqa: F401 - used by fixtures below


def formula_config(target: str, out: str, *, domain=(-2.0, 2.0), hidden=(16,), epochs=20, samples=300):
    from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig

    return FitConfig(data=DataConfig(target=target, domain=domain, samples=samples),
                     model=ModelConfig(hidden=list(hidden)), train=TrainConfig(epochs=epochs),
                     run=RunConfig(out=out, quiet=True))


def runs_beside_a_secret(root, secret: str, epochs: int):
    """``root/runs`` holding one trained run (``good``), and ``root/secret.txt`` outside it: what the
    playground's --runs must serve, and a file it must never reach."""
    from mlpfit.fitting.fit import fit

    (root / "secret.txt").write_text(secret)
    runs = root / "runs"
    runs.mkdir()
    fit(formula_config("x*y", str(runs / "good"), epochs=epochs))
    return runs


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def curve_run(runs_root):
    """One input, two outputs, formula truth."""
    from mlpfit.fitting.fit import fit

    return fit(formula_config("sin(x), x**2", str(runs_root / "curve")))


@pytest.fixture(scope="session")
def surface_run(runs_root):
    """Two inputs with a formula truth: heatmaps."""
    from mlpfit.fitting.fit import fit

    return fit(formula_config("x*y", str(runs_root / "surface")))


@pytest.fixture(scope="session")
def wide_run(runs_root):
    """Three inputs: predicted vs actual and residuals."""
    from mlpfit.fitting.fit import fit

    return fit(formula_config("x1 + x2*x3", str(runs_root / "wide")))


@pytest.fixture(scope="session")
def linear_run(runs_root):
    """No hidden layer: the learned equation goes into the plot title and the report."""
    from mlpfit.fitting.fit import fit

    return fit(formula_config("x1 + x2", str(runs_root / "linear"), hidden=(), epochs=60))


@pytest.fixture(scope="session")
def digits_run(runs_root):
    """A small MLP trained on scikit-learn's digits through fit."""
    from mlpfit.fitting.fit import fit
    from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig

    config = FitConfig(data=DataConfig(target="digits"), model=ModelConfig(hidden=[32]), train=TrainConfig(epochs=15),
                       run=RunConfig(out=str(runs_root / "digits"), quiet=True))
    with pytest.MonkeyPatch.context() as mp:  # undone at once, so later fits read their real targets
        mp.setattr("mlpfit.fitting.fit.load_dataset", lambda config: digits_dataset())
        return fit(config)


@pytest.fixture(scope="session")
def default_fit(runs_root):
    """default_fit(formula, lo, hi) -> FitResult: a fit with every default (as `mlpfit fit FORMULA --domain
    LO:HI`), made once per session and shared by the symbolic, sensitivity and units tests."""
    import re

    from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
    from mlpfit.fitting.fit import fit

    made = {}

    def get(formula: str, lo: float, hi: float):
        if (formula, lo, hi) not in made:
            out = str(runs_root / ("default-" + re.sub(r"[^A-Za-z0-9]+", "_", formula).strip("_")))
            config = FitConfig(DataConfig(target=formula, domain=(lo, hi)), ModelConfig(), TrainConfig(),
                               RunConfig(out=out, quiet=True))
            made[formula, lo, hi] = fit(config)
        return made[formula, lo, hi]

    return get


def assert_not_blank(path) -> None:
    """The PNG exists and shows something: its pixels vary and a fair part is not white."""
    pixels = imread(str(path))[..., :3]
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100, pixels.shape
    assert pixels.std() > 0.05, f"{path} is nearly uniform"
    non_white = (pixels < 0.95).any(axis=-1).mean()
    assert non_white > 0.03, f"{path}: only {non_white:.1%} of its pixels are not white"



@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(capsys):
    """cli("fit", "x1 + x2", ...) -> CliResult, without a subprocess (fast)."""

    def run(*argv: str) -> CliResult:
        try:
            main(list(argv))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def one_thread():
    """As a fit does for small models: a second thread only adds contention on a shared CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
