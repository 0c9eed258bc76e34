"""Shared fixtures: small trained runs that the plot, report and CLI tests read."""

from __future__ import annotations

import numpy as np
import pytest

from mlpfit.dataset import Dataset


def digits_dataset() -> Dataset:
    """scikit-learn's 8x8 digits as a classification Dataset (the image source is built elsewhere)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    classes = [int(c) for c in digits.target_names]
    return Dataset("digits", digits.data.astype(np.float64), digits.target.astype(np.int64),
                   [f"p{i}" for i in range(64)], ["label"], task="classify", classes=classes, image_shape=(8, 8))


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory, monkeypatch_session):
    """A run folder of a small MLP trained on digits through pipeline.fit (about a second)."""
    from mlpfit import pipeline
    from mlpfit.config import FitConfig, ModelConfig, RunConfig, TrainConfig

    monkeypatch_session.setattr(pipeline, "load_dataset", lambda config: digits_dataset())
    out = str(tmp_path_factory.mktemp("runs") / "digits")
    config = FitConfig(model=ModelConfig(hidden=[32]), train=TrainConfig(epochs=15),
                       run=RunConfig(out=out, quiet=True))
    return pipeline.fit(config)


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()
