"""A library fit leaves the process as it found it (issue 25): NumPy's global random state, torch's seed, random
state and thread count, and the BLAS thread limit are what they were before ``Regressor().fit``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

import mlpfit


def blas_threads() -> dict[str, int]:
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def data():
    X = np.random.default_rng(0).uniform(-1, 1, (120, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1]


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_fit_leaves_the_random_states_and_thread_counts_as_they_were(engine):
    X, y = data()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)  # not what a small fit uses (1 thread)
        torch.manual_seed(12345)
        np.random.seed(7)
        numpy_state = np.random.get_state()
        torch_state = torch.get_rng_state()
        blas = blas_threads()
        fitted = mlpfit.Regressor(hidden=8, epochs=20, engine=engine).fit(X, y)
        assert fitted.summary_["engine"] == engine
        after = np.random.get_state()
        assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
        assert after[2:] == numpy_state[2:]
        assert torch.initial_seed() == 12345 and torch.equal(torch.get_rng_state(), torch_state)
        assert torch.get_num_threads() == 3
        now = blas_threads()  # a library loaded by the fit (scipy's OpenBLAS) keeps its own default
        assert {path: now[path] for path in blas} == blas
    finally:
        torch.set_num_threads(threads)


def test_the_fit_really_sets_torchs_threads_and_seed_while_it_trains(monkeypatch):
    """The test above would pass if nothing were ever set: inside the fit torch runs seeded and on 1 thread."""
    from mlpfit.engines.torch import build

    seen = []
    real = build.build_torch

    def watched(*args, **kwargs):
        seen.append((torch.get_num_threads(), torch.initial_seed()))
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "build_torch", watched)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        torch.manual_seed(12345)
        mlpfit.Regressor(hidden=8, epochs=5, engine="torch", seed=4).fit(*data())
    finally:
        torch.set_num_threads(threads)
    assert seen == [(1, 4)]
