"""mlpfit.network.Network, what `mlpfit predict` uses, agrees with the torch modules the engines train, loaded
with the same weights; and predicting imports no torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.errors import RunFolderError
from mlpfit.fitting.fit import fit
from mlpfit.runfolder.run import load, load_network
from torch_reference import reference

pytestmark = pytest.mark.usefixtures("one_thread")


def _run(root, name, target="x*y + sin(x)", **model):
    engine = model.pop("engine", "torch")
    config = FitConfig(DataConfig(target=target, samples=300), ModelConfig(hidden=[8, 8], **model),
                       TrainConfig(epochs=15, engine=engine), RunConfig(out=str(root / name), quiet=True, plots=False))
    return fit(config).run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("numpy-predictor")
    return {
        "single": _run(root, "single", activation="gelu"),
        "ensemble": _run(root, "ensemble", ensemble=3, activation="silu"),
        "numpy-engine": _run(root, "numpy-engine", engine="numpy", activation="tanh"),
    }


@pytest.mark.parametrize("kind", ["single", "ensemble", "numpy-engine"])
def test_the_network_agrees_with_the_torch_model(runs, kind):
    X = np.random.default_rng(1).uniform(-3, 3, (50, 2))  # in and well outside the [-1, 1] box
    numpy_fitted, _ = load_network(runs[kind])
    torch_fitted = reference(load(runs[kind]).network)
    np.testing.assert_allclose(numpy_fitted.predict(X), torch_fitted.predict(X), rtol=1e-5, atol=1e-6)
    assert numpy_fitted.members == torch_fitted.members
    if kind == "ensemble":
        np.testing.assert_allclose(numpy_fitted.predict_std(X), torch_fitted.predict_std(X), rtol=1e-4, atol=1e-6)


def test_classification_probabilities_agree(digits_run):
    X = digits_run.dataset.X[:40]
    numpy_fitted, _ = load_network(digits_run.run_dir)
    torch_fitted = reference(numpy_fitted)
    np.testing.assert_allclose(numpy_fitted.predict_proba(X), torch_fitted.predict_proba(X), atol=1e-5)
    assert (numpy_fitted.predict(X) == torch_fitted.predict(X)).all()


def test_weights_that_do_not_chain_as_the_summary_says_are_refused(runs, tmp_path):
    from mlpfit.runfolder import store

    files = store.read(runs["single"])
    files.summary["architecture"]["sizes"] = [2, 9, 8, 1]
    from mlpfit.runfolder.run import checked_network

    with pytest.raises(RunFolderError, match="does not fit the architecture"):
        checked_network(files)


def test_predict_on_the_cpu_never_imports_torch(runs):
    code = ("import sys\nfrom mlpfit.cli.main import main\n"
            f"sys.argv = ['mlpfit', 'predict', {runs['ensemble']!r}, '0.5', '0.25', '--json']\n"
            "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0, done.code\n"
            "print(json.dumps('torch' in sys.modules))\n").replace("import sys", "import json, sys", 1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0, out.stderr
    assert json.loads(lines[0])["std"] and json.loads(lines[-1]) is False
