"""Per-row weights, the L2 term and starting from an earlier fit are engine features: the three
engines take the same step, and fit() continues where a fit stopped (issue 20)."""
import numpy as np
import pytest
import torch

from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
from mlpfit.data.dataset import Dataset, split_indices
from mlpfit.data.scaling import Standardizer
from mlpfit.engines.numpy.engine import NumpyEngine, member_params
from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.stacked import StackedEngine
from mlpfit.errors import UsageError
from mlpfit.fitting.build import Start
from mlpfit.fitting.fit import fit
from mlpfit.engines.torch.losses import batch_loss, l2_penalty, member_loss
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.train.trainer import TrainData

SIZES = [2, 5, 1]


def data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, np.sin(X[:, :1]) + X[:, 1:] ** 2, rng.integers(0, 3, n).astype(np.float64)


def test_weighted_losses_are_weighted_means_over_rows():
    prediction, target = torch.randn(2, 6, 3), torch.randn(6, 3)
    weight = torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0, 3.0])
    repeated = weight.long()
    expected = batch_loss("mse", prediction[0].repeat_interleave(repeated, 0), target.repeat_interleave(repeated, 0))
    torch.testing.assert_close(batch_loss("mse", prediction[0], target, weight), expected)
    torch.testing.assert_close(member_loss("mse", prediction, target, weight)[0], expected)
    logits, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    expected = batch_loss("cross_entropy", logits.repeat_interleave(repeated, 0), labels.repeat_interleave(repeated))
    torch.testing.assert_close(batch_loss("cross_entropy", logits, labels, weight), expected)
    torch.testing.assert_close(batch_loss("mse", prediction[0], target, torch.ones(6)), batch_loss("mse", prediction[0], target))


def test_l2_penalty_is_scikit_learns_on_weight_matrices():
    weights = [torch.ones(3, 2), 2 * torch.ones(1, 3)]
    assert float(l2_penalty(weights, 0.5, 4)) == pytest.approx(0.5 * 0.5 * (6 + 12) / 4)
    stacked = [torch.ones(2, 3, 2), torch.ones(2, 1, 3)]
    torch.testing.assert_close(l2_penalty(stacked, 1.0, torch.tensor([2.0, 4.0])), torch.tensor([9 / 2 / 2, 9 / 2 / 4]))
    assert l2_penalty(weights, 0.0, 4) == 0.0


def test_the_three_engines_take_the_same_weighted_penalized_step():
    X, Y, w = data()
    torch.manual_seed(0)
    single = MLP(SIZES, "tanh").double()
    start = {k: v.clone() for k, v in single.state_dict().items()}
    options = dict(epochs=1, batch_size=len(X), lr=0.1, optimizer="sgd", schedule="constant", alpha=0.7)
    tensors = TrainData(*(torch.as_tensor(a) for a in (X, Y, X, Y, w, w)))
    TorchEngine(single, tensors, loss="mse", seed=0, **options).train_epoch(lambda: False)
    stacked = EnsembleMLP(SIZES, "tanh", seeds=[0]).double()
    stacked.load_state_dict({k.replace("layers.", "members.layers.", 1): v[None] for k, v in start.items()})
    StackedEngine(stacked, tensors, loss="mse", seed=0, **options).train_epoch(lambda: False)
    numpy = NumpyEngine(SIZES, TrainData(X, Y, X, Y, w, w), activation="tanh", output_activation="identity",
                        seeds=[0], initial_params=member_params({k: v.numpy() for k, v in start.items()}, 1, False), **options)
    numpy.train_epoch(lambda: False)
    for name, value in single.state_dict().items():
        moved = value - start[name]
        assert moved.abs().max() > 1e-4  # a real step, with every part of the gradient in it
        np.testing.assert_allclose(numpy.member_state(0)[name], value.numpy(), rtol=1e-5, atol=1e-6)  # float32
        np.testing.assert_allclose(stacked.state_dict()["members." + name][0].numpy(), value.numpy(), rtol=1e-6, atol=1e-7)


def test_numpy_members_with_their_own_row_weights_step_as_single_fits_with_those_weights():
    X, Y, w = data(40)
    own = np.stack([w, (w == 0).astype(np.float64)])  # [K, n]: member 1 trains on the rows member 0 leaves out
    options = dict(activation="tanh", output_activation="identity", epochs=1, batch_size=7, lr=0.05, optimizer="adam",
                   schedule="constant", alpha=0.1)
    members = NumpyEngine(SIZES, TrainData(X, Y, X, Y, own, own), seeds=[0, 1], **options)
    members.train_epoch(lambda: False)
    scores = members.evaluate()["val_loss"]
    for k in range(2):
        single = NumpyEngine(SIZES, TrainData(X, Y, X, Y, own[k], own[k]), seeds=[k], **options)
        single.train_epoch(lambda: False)
        for name, value in single.member_state(0).items():
            np.testing.assert_allclose(members.member_state(k)[name], value, rtol=1e-5, atol=1e-6)
        assert scores[k] == pytest.approx(single.evaluate()["val_loss"][0], rel=1e-5)


def test_torch_members_with_their_own_row_weights_step_as_with_those_weights_shared():
    X, Y, w = data(40)
    options = dict(epochs=1, batch_size=len(X), lr=0.05, optimizer="sgd", schedule="constant", alpha=0.1, loss="mse", seed=0)

    def stacked(W, W_val):
        model = EnsembleMLP(SIZES, "tanh", seeds=[0, 1]).double()
        engine = StackedEngine(model, TrainData(*(torch.as_tensor(a) for a in (X, Y, X, Y)), W, W_val), **options)
        engine.train_epoch(lambda: False)
        return model.state_dict(), engine.evaluate()["val_loss"]

    ones = np.ones_like(w)
    own = torch.as_tensor(np.stack([w, ones]))
    trained, scores = stacked(own, own)
    for k, W in enumerate((torch.as_tensor(w), None)):
        alike, alike_scores = stacked(W, W)
        for name, value in trained.items():
            torch.testing.assert_close(value[k], alike[name][k])
        assert scores[k] == pytest.approx(alike_scores[k], rel=1e-6)  # (summed in float32)


def test_weighted_scaler_and_no_split_when_nothing_is_held_out():
    values, weights = np.array([[0.0], [2.0], [10.0]]), np.array([1.0, 1.0, 0.0])
    scaler = Standardizer.fit(values, weights)
    assert scaler.mean[0] == pytest.approx(1.0) and scaler.std[0] == pytest.approx(1.0)
    split = split_indices(200, 0.0, 0.0, seed=0)
    assert not split.held_out and len(split.train) == 200


def test_fit_continues_from_an_earlier_fit():
    X, Y, _ = data(200)
    dataset = Dataset("array", X, Y, ["a", "b"], ["y"])
    config = FitConfig(DataConfig(target="array", val_fraction=0.1, test_fraction=0.0), ModelConfig(hidden=[8]),
                       TrainConfig(epochs=80, threads=1))
    first = fit(config, dataset=dataset, save=False)
    later = fit(config, dataset=dataset, save=False, start=Start(first.fitted, None))
    assert later.fitted.x_scaler is first.fitted.x_scaler
    losses = first.history.column("train_loss")
    assert later.history.column("train_loss")[0] == pytest.approx(losses[-1], rel=0.01)  # where the first ended
    assert losses[-1] < 0.75 * losses[0]
    other = FitConfig(config.data, ModelConfig(hidden=[9]), config.train)
    with pytest.raises(UsageError, match="do not fit"):
        fit(other, dataset=dataset, save=False, start=Start(first.fitted, None))


def test_bce_refuses_targets_outside_zero_to_one():
    X, Y, _ = data(60)
    config = FitConfig(DataConfig(target="array", test_fraction=0.0), ModelConfig(hidden=[4]),
                       TrainConfig(epochs=2, loss="bce", threads=1))
    with pytest.raises(UsageError, match=r"\[0, 1\]"):
        fit(config, dataset=Dataset("array", X, Y + 5, ["a", "b"], ["y"]), save=False)
    labels = (Y > 0.5).astype(np.float64)
    result = fit(config, dataset=Dataset("array", X, labels, ["a", "b"], ["y"]), save=False)
    assert result.fitted.y_scaler.is_identity  # 0/1 labels are never standardized


def test_cli_fits_0_1_columns_by_bce_and_predicts_probabilities(cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    labels = np.c_[X[:, 0] > 0, X[:, 0] + X[:, 1] > 0.5].astype(int)
    path = tmp_path / "tags.csv"
    path.write_text("x1,x2,a,b\n" + "".join(f"{x1},{x2},{a},{b}\n" for (x1, x2), (a, b) in zip(X, labels)))
    run = str(tmp_path / "run")
    fitted = cli("fit", str(path), "--target", "a,b", "--loss", "bce", "--alpha", "1e-4", "--epochs", "60",
                 "--hidden", "8", "--no-plots", "--out", run, "--json")
    assert fitted.code == 0 and fitted.json()["task"] == "regress"
    res = cli("predict", run, "3", "-3", "--json")
    probability = np.array(res.json()["predictions"][0])
    assert res.code == 0 and np.all((probability > 0) & (probability < 1)) and probability[0] > 0.7


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_poisson_fits_counts_as_exp_of_the_output_and_refuses_negative_targets(engine):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (400, 2))
    rate = np.exp(1 + X[:, 0] - X[:, 1])
    counts = rng.poisson(rate)[:, None].astype(np.float64)
    config = FitConfig(DataConfig(target="array", test_fraction=0.0), ModelConfig(hidden=[8]),
                       TrainConfig(epochs=200, loss="poisson", engine=engine, threads=1))
    with pytest.raises(UsageError, match=">= 0"):
        fit(config, dataset=Dataset("array", X, counts - 3, ["a", "b"], ["y"]), save=False)
    result = fit(config, dataset=Dataset("array", X, counts, ["a", "b"], ["y"]), save=False)
    assert result.fitted.y_scaler.is_identity and result.fitted.link == "exp"  # counts are never standardized
    predicted = result.fitted.predict(X)[:, 0]
    assert predicted.min() > 0 and np.corrcoef(predicted, rate)[0, 1] > 0.95
