"""Batched ensembles: stacked model, stacked optimizer, per-member early stopping, run folders, CLI."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from mlpfit.cli.main import main
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig, validate
from mlpfit.data.dataset import split_indices
from mlpfit.config.defaults import resolve
from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.stacked import StackedEngine, member_chunks
from mlpfit.fitting import build as building
from mlpfit.fitting.fit import fit
from mlpfit.fitting.prepare import load_dataset
from mlpfit.engines.torch.losses import member_loss
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.engines.torch.build import tensor_data
from mlpfit.engines.torch.state import network_state
from mlpfit.network.network import Network
from mlpfit.runfolder.run import load
from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping
from mlpfit.engines.torch.stacked_optim import StackedOptimizer
from mlpfit.train.trainer import Trainer
from mlpfit.errors import UsageError
from mlpfit.fitting.metrics import r2_per_output
from mlpfit.engines.torch.model import MLP


pytestmark = pytest.mark.usefixtures("one_thread")

SIZES = [2, 16, 16, 1]


def small_problem(samples=600, batch_size=None, epochs=60):
    """x² + y² on -3:3, resolved like a fit on the torch engine, with scaled train/val tensors."""
    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-3.0, 3.0), samples=samples),
                       ModelConfig(hidden=SIZES[1:-1]),
                       TrainConfig(epochs=epochs, batch_size=batch_size, patience=1000, engine="torch"))
    dataset = load_dataset(config)
    split = split_indices(len(dataset.X), 0.1, 0.1, 0)
    resolve(config, len(split.train), 2, 1, "regress")
    template, _ = building.build(config, dataset, split, "cpu")
    data = tensor_data(building.train_data(dataset, split, template.x_scaler, template.y_scaler), torch.device("cpu"))
    return config, dataset, split, template, data


def as_network(model, template: Network) -> Network:
    """The Network of a torch model's weights, with the template's scalers and names (what an engine ends as)."""
    return Network.from_state(network_state(model), isinstance(model, EnsembleMLP), **template.metadata())


def train_single(data, seed, config, lr=None):
    torch.manual_seed(seed)
    model = MLP(SIZES)
    t = config.train
    engine = TorchEngine(model, data, epochs=t.epochs, batch_size=t.batch_size, lr=lr or t.lr, optimizer="adam",
                         loss="mse", schedule=t.schedule, seed=seed)
    Trainer(engine, t.epochs).run()
    return model


def train_batched(data, seeds, config, lr=None, patience=1000):
    model = EnsembleMLP(SIZES, seeds=seeds)
    t = config.train
    engine = StackedEngine(model, data, epochs=t.epochs, batch_size=t.batch_size, lr=lr or t.lr, optimizer="adam",
                           loss="mse", schedule=t.schedule, seed=0)
    trainer = Trainer(engine, t.epochs, [DivergenceGuard(), EarlyStopping(patience)])
    trainer.run()
    return model, trainer


# ---------------------------------------------------------------- model and optimizer


def test_member_starts_as_the_single_fit_with_its_seed_would():
    ensemble = EnsembleMLP(SIZES, seeds=[5, 9])
    torch.manual_seed(9)
    single = MLP(SIZES)
    for a, b in zip(ensemble.member(1).parameters(), single.parameters()):
        assert torch.equal(a, b)
    assert ensemble.members.layers[0].weight.shape == (2, 16, 2)
    assert not torch.equal(ensemble.members.layers[0].weight[0], ensemble.members.layers[0].weight[1])


def test_forward_matches_each_member_alone_for_shared_and_per_member_inputs():
    ensemble = EnsembleMLP(SIZES, activation="silu", seeds=[0, 1, 2])
    x = torch.randn(7, 2)
    out = ensemble(x)
    assert out.shape == (3, 7, 1)
    per_member = torch.randn(3, 5, 2)
    stacked = ensemble(per_member)
    for k in range(3):
        torch.testing.assert_close(out[k], ensemble.member(k)(x))
        torch.testing.assert_close(stacked[k], ensemble.member(k)(per_member[k]))


@pytest.mark.parametrize("name, reference", [
    ("adam", lambda p, lr: torch.optim.Adam(p, lr=lr)),
    ("adamw", lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=1e-4)),
    ("sgd", lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9)),
])
def test_stacked_optimizer_matches_torch_per_member_lr(name, reference):
    torch.manual_seed(0)
    lrs = [1e-2, 3e-3]
    stacked = torch.randn(2, 4, 3, requires_grad=True)
    singles = [stacked[k].detach().clone().requires_grad_() for k in range(2)]
    optimizer = StackedOptimizer(name, [stacked], lrs)
    references = [reference([p], lr) for p, lr in zip(singles, lrs)]
    for _ in range(5):
        grad = torch.randn(2, 4, 3)
        stacked.grad = grad.clone()
        optimizer.step(1.0, torch.ones(2))
        for k, (p, opt) in enumerate(zip(singles, references)):
            p.grad = grad[k].clone()
            opt.step()
    for k in range(2):
        torch.testing.assert_close(stacked[k].detach(), singles[k].detach(), rtol=1e-5, atol=1e-6)


def test_inactive_member_is_frozen():
    stacked = torch.ones(2, 3, requires_grad=True)
    optimizer = StackedOptimizer("adam", [stacked], 0.1)
    stacked.grad = torch.ones(2, 3)
    optimizer.step(1.0, torch.tensor([1.0, 0.0]))
    assert torch.all(stacked[1] == 1) and torch.all(stacked[0] < 1)


def test_member_loss_is_each_members_mean_loss():
    prediction = torch.randn(3, 10, 4)
    labels = torch.randint(0, 4, (10,))
    losses = member_loss("cross_entropy", prediction, labels)
    targets = torch.randn(10, 4)
    for k in range(3):
        torch.testing.assert_close(losses[k], F.cross_entropy(prediction[k], labels))
        torch.testing.assert_close(member_loss("huber", prediction, targets)[k], F.huber_loss(prediction[k], targets))


def test_unbatched_optimizer_is_refused():
    with pytest.raises(UsageError, match="lbfgs"):
        validate(FitConfig(model=ModelConfig(ensemble=3), train=TrainConfig(optimizer="lbfgs")))
    with pytest.raises(UsageError, match="--ensemble"):
        validate(FitConfig(model=ModelConfig(ensemble=0)))


# ---------------------------------------------------------------- training


def test_full_batch_members_reproduce_single_fits_with_their_seed_and_lr():
    config, dataset, split, template, data = small_problem(samples=300, epochs=40)
    lrs = [1e-2, 3e-3]
    model, _ = train_batched(data, [0, 1], config, lr=lrs)
    for k, (seed, lr) in enumerate(zip([0, 1], lrs)):
        single = train_single(data, seed, config, lr=lr)
        # Float sums differ in order between bmm and mm; 40 Adam steps amplify that to ~1e-4.
        torch.testing.assert_close(model.member(k)(data.X_val), single(data.X_val), rtol=1e-3, atol=1e-3)
    gap = (model.member(0)(data.X_val) - model.member(1)(data.X_val)).abs().max()
    assert gap > 1e-2  # the two lrs (and seeds) really gave different members


def test_minibatch_ensemble_quality_matches_single_fits():
    """The issue's bar on a small case: worst member R² within 0.001 of the worst single fit."""
    config, dataset, split, template, data = small_problem(samples=1500, batch_size=128, epochs=40)
    seeds = [0, 1, 2, 3]
    X, Y = dataset.X[split.test], dataset.Y[split.test]
    singles = []
    for seed in seeds:
        single = as_network(train_single(data, seed, config), template)
        singles.append(r2_per_output(Y, single.predict(X))[0])
    model, _ = train_batched(data, seeds, config)
    fitted = as_network(model, template)
    members = [r2_per_output(Y, p)[0] for p in fitted.member_predictions(X)]
    assert min(singles) > 0.99
    assert min(members) >= min(singles) - 1e-3
    assert r2_per_output(Y, fitted.predict(X))[0] >= min(members) - 1e-4  # the mean is no worse than the worst


def test_members_shuffle_independently():
    config, dataset, split, template, data = small_problem(samples=400, batch_size=64, epochs=3)
    model, _ = train_batched(data, [7, 7], config)  # same init, so only the batch order differs
    weights = model.members.layers[0].weight
    assert not torch.allclose(weights[0], weights[1])


def test_each_member_stops_on_its_own_and_keeps_its_best_weights():
    config, dataset, split, template, data = small_problem(samples=300, epochs=200)
    config.train.schedule = "constant"
    # Member 1's learning rate is absurd: it diverges or stalls, member 0 trains on.
    model, trainer = train_batched(data, [0, 1], config, lr=[1e-2, 50.0], patience=5)
    guard, stopping = trainer.callbacks
    assert stopping.stopped[1] or guard.diverged[1]
    assert stopping.best_epoch[1] < stopping.best_epoch[0]
    assert trainer.history.epochs > stopping.best_epoch[1] + 5  # member 0 kept going after member 1 stopped
    restored = trainer.engine.evaluate()["val_loss"]
    np.testing.assert_allclose(restored, stopping.best, rtol=1e-5)


# ---------------------------------------------------------------- pipeline, run folder, predict


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("runs") / "ens")
    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-2.0, 2.0), samples=500),
                       ModelConfig(hidden=[16, 16], ensemble=3), TrainConfig(epochs=30, seed=4),
                       RunConfig(out=out, quiet=True))
    return fit(config)


def test_run_folder_stores_stacked_weights_and_every_member(ensemble_run):
    state = load_file(f"{ensemble_run.run_dir}/model.safetensors")
    assert state["members.layers.0.weight"].shape == (3, 16, 2)
    assert state["members.layers.2.bias"].shape == (3, 1)
    summary = json.load(open(f"{ensemble_run.run_dir}/summary.json"))
    assert summary["ensemble"] == 3
    assert [m["seed"] for m in summary["members"]] == [4, 5, 6]
    assert all(len(m["metrics"]["test"]["r2"]) == 1 for m in summary["members"])
    member_r2 = [m["metrics"]["test"]["r2"][0] for m in summary["members"]]
    assert summary["metrics"]["test"]["r2"][0] >= min(member_r2) - 1e-3


def test_load_gives_the_members_mean_and_spread(ensemble_run):
    run = load(ensemble_run.run_dir)
    fitted, summary, history = run.network, run.summary, run.history
    assert fitted.stacked and fitted.members == 3
    X = np.array([[0.5, -1.0], [1.5, 1.5]])
    members = fitted.member_predictions(X)
    np.testing.assert_allclose(fitted.predict(X), members.mean(axis=0))
    np.testing.assert_allclose(fitted.predict_std(X), members.std(axis=0))
    np.testing.assert_allclose(fitted.predict(X), ensemble_run.fitted.predict(X), rtol=1e-6)
    assert fitted.predict_std(X).shape == (2, 1) and np.all(fitted.predict_std(X) > 0)
    assert history.epochs == summary["epochs"]


def test_cli_fit_ensemble_and_predict_json_with_std(tmp_path, capsys):
    out = str(tmp_path / "run")
    with pytest.raises(SystemExit) as done:
        main(["fit", "x1 + x2", "--samples", "300", "--epochs", "300", "--hidden", "8", "--ensemble", "2",
              "--out", out, "--json"])
    assert done.value.code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ensemble"] == 2 and len(summary["members"]) == 2
    with pytest.raises(SystemExit) as done:
        main(["predict", out, "0.5", "0.25", "--json"])
    assert done.value.code == 0
    answer = json.loads(capsys.readouterr().out)
    assert len(answer["predictions"]) == 1 and len(answer["std"][0]) == 1
    assert abs(answer["predictions"][0][0] - 0.75) < 0.2


def test_cli_refuses_a_bad_ensemble_size(capsys):
    with pytest.raises(SystemExit) as done:
        main(["fit", "x", "--ensemble", "0"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "--ensemble" in err and "got 0" in err and len(err.strip().splitlines()) == 1


def test_ensemble_config_roundtrips():
    config = FitConfig(model=ModelConfig(ensemble=5))
    assert FitConfig.from_dict(copy.deepcopy(config.to_dict())).model.ensemble == 5
    assert FitConfig.from_dict({"model": {"hidden": [4]}}).model.ensemble == 1  # run folders from before


def test_member_chunks_cover_every_member_once():
    chunks = member_chunks(10, 2**16, torch.device("cpu"))  # 4 members' activations per chunk
    assert [list(range(10))[c] for c in chunks] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert member_chunks(10, 2**16, torch.device("cuda")) == [slice(0, 10)]
    assert member_chunks(3, 10**9, torch.device("cpu")) == [slice(0, 1), slice(1, 2), slice(2, 3)]


def test_chunked_training_equals_all_members_at_once(monkeypatch):
    config, dataset, split, template, data = small_problem(samples=300, batch_size=64, epochs=5)
    whole, _ = train_batched(data, [0, 1, 2], config)
    monkeypatch.setattr("mlpfit.engines.torch.stacked.CPU_CHUNK_VALUES", 1)  # one member per chunk
    chunked, trainer = train_batched(data, [0, 1, 2], config)
    assert len(trainer.engine.chunks) == 3
    for a, b in zip(whole.parameters(), chunked.parameters()):
        torch.testing.assert_close(a, b)


def test_classifier_ensemble_averages_probabilities_not_logits():
    from mlpfit.data.scaling import Standardizer

    model = EnsembleMLP([2, 4, 3], seeds=[0, 1])
    fitted = Network.from_state(network_state(model), True, activation="tanh", output_activation="identity",
                                x_scaler=Standardizer.identity(2), y_scaler=None, inputs=["a", "b"], outputs=["label"],
                                task="classify", classes=["x", "y", "z"])
    X = np.array([[0.3, -2.0], [4.0, 1.0]])
    logits = fitted.member_outputs(X)
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(torch.as_tensor(X, dtype=torch.float32)).numpy(), rtol=1e-5, atol=1e-6)
    expected = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).mean(0)
    np.testing.assert_allclose(fitted.predict_proba(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(fitted.predict(X), expected.argmax(1))
    assert fitted.predict_std(X).shape == (2, 3)
