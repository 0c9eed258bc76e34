"""Many MLPs of one shape trained as one batched model.

A small MLP leaves most of a CPU idle: each matmul is tiny and the time goes to Python and
operator dispatch. Stacking K members' weights as ``[K, out, in]`` turns K small matmuls into
one batched matmul (``torch.baddbmm``), so K members cost little more than one.

* Member k is initialized exactly as a single fit with seed ``seeds[k]`` would be (same
  ``nn.Linear`` init under ``torch.manual_seed``), so a member and a single fit start alike.
* One optimizer steps the stacked tensors with a per-member learning-rate vector
  (:class:`StackedOptimizer`), which lets a sweep batch settings that differ only in ``lr``.
* Every member has its own minibatch order (one ``rand(K, n).argsort`` per epoch: a gather of
  ``[K, B]`` indices is cheap) and its own early stopping: the best weights are kept slice by
  slice, a stopped member's learning rate is masked to zero, and the best weights are restored
  at the end. Training ends when every member has stopped or the epochs run out.

Saved names: ``members.layers.{i}.weight`` ``[K, out, in]`` and ``members.layers.{i}.bias`` ``[K, out]``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mlpfit.errors import UsageError
from mlpfit.nn.fitted import FittedModel
from mlpfit.nn.model import ACTIVATIONS, MLP
from mlpfit.train.history import History
from mlpfit.train.optim import SCHEDULES

STACKED_OPTIMIZERS = ("adam", "adamw", "sgd")  # the optimizers with a stacked, per-member-lr implementation
# On a CPU, members go through forward and backward in chunks whose activations ([members, rows,
# width] float32) stay near this many values (~1 MB): all 64 members at once spill out of cache
# and ran no faster per member than single fits. A GPU takes every member at once.
CPU_CHUNK_VALUES = 2**18


class StackedLinear(nn.Module):
    """K independent Linear layers: ``weight [K, out, in]``, ``bias [K, out]``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, x: torch.Tensor, members: slice = slice(None)) -> torch.Tensor:
        # x: [K, N, in] (or [N, in], shared by every member) -> [K, N, out]; members picks a slice of K
        weight, bias = self.weight[members], self.bias[members]
        if x.dim() == 2:
            x = x.expand(weight.shape[0], *x.shape)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class StackedLayers(nn.Module):
    def __init__(self, layers: list[StackedLinear]):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class EnsembleMLP(nn.Module):
    """K MLPs of the same sizes; ``forward`` returns ``[K, N, outputs]``."""

    def __init__(self, sizes: list[int], activation: str = "tanh", output_activation: str = "identity",
                 seeds: list[int] | None = None, members: int | None = None):
        super().__init__()
        seeds = list(seeds) if seeds is not None else list(range(members or 1))
        self.sizes, self.seeds = list(sizes), seeds
        self.activation_name, self.output_activation_name = activation, output_activation
        singles = [_seeded_mlp(sizes, activation, output_activation, seed) for seed in seeds]
        layers = [
            StackedLinear(torch.stack([m.layers[i].weight.detach() for m in singles]),
                          torch.stack([m.layers[i].bias.detach() for m in singles]))
            for i in range(len(sizes) - 1)
        ]
        self.members = StackedLayers(layers)
        self.activation = ACTIVATIONS[activation]()
        self.output_activation = ACTIVATIONS[output_activation]()

    @property
    def k(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor, members: slice = slice(None)) -> torch.Tensor:
        layers = self.members.layers
        for layer in layers[:-1]:
            x = self.activation(layer(x, members))
        return self.output_activation(layers[-1](x, members))

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def member(self, k: int) -> MLP:
        """Member k as a plain :class:`MLP` (a copy), e.g. to save or inspect it alone."""
        single = MLP(self.sizes, self.activation_name, self.output_activation_name)
        with torch.no_grad():
            for mine, theirs in zip(single.layers, self.members.layers):
                mine.weight.copy_(theirs.weight[k])
                mine.bias.copy_(theirs.bias[k])
        return single.to(self.members.layers[0].weight.device)


def _seeded_mlp(sizes, activation, output_activation, seed: int) -> MLP:
    """The MLP a single fit with this seed would start from; the global RNG is left untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLP(sizes, activation, output_activation)


# ---------------------------------------------------------------- optimizer on stacked tensors


class StackedOptimizer:
    """Adam / AdamW / SGD-momentum on ``[K, ...]`` tensors with a learning rate per member.

    torch's optimizers take one lr per parameter group, and a stacked tensor is one parameter, so
    the per-member lr is a ``[K]`` vector broadcast over each slice. The update is the same
    arithmetic as torch.optim.Adam (tests compare them), with the same defaults as train/optim.py.
    """

    def __init__(self, name: str, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4, momentum=0.9):
        if name not in STACKED_OPTIMIZERS:
            raise UsageError(f"--optimizer {name!r} has no batched version: use {', '.join(STACKED_OPTIMIZERS)} with --ensemble or a sweep")
        self.name, self.params = name, list(params)
        self.lr = torch.as_tensor(lr, dtype=torch.float32, device=self.params[0].device).reshape(-1)
        self.betas, self.eps, self.weight_decay, self.momentum = betas, eps, weight_decay, momentum
        self.state = [[torch.zeros_like(p), torch.zeros_like(p)] for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, factor: float, active: torch.Tensor) -> None:
        """One update with lr = base lr x schedule ``factor``, zero for members not ``active``."""
        self.t += 1
        lr = self.lr * factor * active
        for p, (m, v) in zip(self.params, self.state):
            rate = lr.view(-1, *([1] * (p.dim() - 1)))
            if self.name == "sgd":
                m.mul_(self.momentum if self.t > 1 else 0.0).add_(p.grad)
                p.sub_(rate * m)
                continue
            if self.name == "adamw":
                p.mul_(1 - rate * self.weight_decay)
            b1, b2 = self.betas
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
            p.sub_(rate / (1 - b1**self.t) * m / denom)


# ---------------------------------------------------------------- per-member losses


def member_loss(name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean loss of each member, ``[K]``; ``target`` is ``[N, ...]`` (shared) or ``[K, N, ...]``."""
    k = prediction.shape[0]
    if name == "cross_entropy":
        target = target.expand(k, *target.shape[-1:]) if target.dim() == 1 else target
        flat = F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1), reduction="none")
        return flat.view(k, -1).mean(1)
    target = target.expand_as(prediction)
    per_item = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}[name](prediction, target, reduction="none")
    return per_item.reshape(k, -1).mean(1)


# ---------------------------------------------------------------- the trainer


class EnsembleTrainer:
    """Trains an :class:`EnsembleMLP` on a :class:`~mlpfit.train.loop.TrainData`.

    Callbacks get the same flat ``logs`` as the single loop (means over members) plus
    ``member_val_loss`` (a list); one may call :meth:`stop_member` (e.g. a pruner) or set
    ``stop_training``.
    """

    def __init__(self, model: EnsembleMLP, data, *, epochs, batch_size, lr, optimizer, loss, schedule, seed,
                 patience, callbacks=(), min_relative_improvement: float = 1e-4, diverge_factor: float = 1e3):
        self.model, self.data, self.k = model, data, model.k
        self.epochs, self.batch_size = epochs, min(batch_size, len(data.X))
        self.loss_name, self.patience = loss, patience
        self.min_relative_improvement, self.diverge_factor = min_relative_improvement, diverge_factor
        lr = [lr] * self.k if np.isscalar(lr) else list(lr)
        self.optimizer = StackedOptimizer(optimizer, model.parameters(), lr)
        self.steps_total = max(1, epochs * math.ceil(len(data.X) / self.batch_size))
        self.chunks = member_chunks(self.k, self.batch_size * max(model.sizes), data.X.device)
        self.factor = SCHEDULES[schedule]
        self.generator = torch.Generator().manual_seed(seed)
        self.callbacks = list(callbacks)
        self.history = History()
        self.stop_training = False
        self.seconds = 0.0
        # active: 1 while a member trains, 0 once stopped (multiplies its lr); running: the same on
        # the host, so the per-epoch bookkeeping never waits for the device.
        self.active = torch.ones(self.k, device=data.X.device)
        self.running = [True] * self.k
        self.best = [math.inf] * self.k
        self.best_epoch = [None] * self.k
        self.wait = [0] * self.k
        self.stopped_early = [False] * self.k
        self.diverged = [False] * self.k
        self.pruned = [False] * self.k
        self.first_loss = [None] * self.k
        self.best_state = [p.detach().clone() for p in model.parameters()]
        self.member_rows: list[list[float]] = []  # per epoch, each member's val loss

    def stop_member(self, k: int, pruned: bool = False) -> None:
        self.active[k] = 0.0
        self.running[k] = False
        self.pruned[k] = self.pruned[k] or pruned

    def run(self) -> History:
        start = time.perf_counter()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        for epoch in range(1, self.epochs + 1):
            train = self.train_epoch()
            val = self.evaluate(self.data.X_val, self.data.Y_val)
            self._track(epoch, train, val)
            logs = self._logs(epoch, train, val, time.perf_counter() - start)
            self.history.append(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, logs)
            if self.stop_training or not any(self.running):
                break
        self._restore_best()
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.seconds = time.perf_counter() - start
        return self.history

    def train_epoch(self) -> np.ndarray:
        """One pass for every member; returns each member's mean training loss."""
        X, Y = self.data.X, self.data.Y
        total = torch.zeros(self.k, device=X.device)
        for index in self._batches(len(X), X.device):
            self.optimizer.zero_grad()
            parts = []
            for members in self.chunks:
                xb, yb = (X, Y) if index is None else (X[index[members]], Y[index[members]])
                part = member_loss(self.loss_name, self.model(xb, members), yb)
                part.sum().backward()  # members share no parameters: each gets its own gradient
                parts.append(part.detach())
            losses = torch.cat(parts)
            step = self.optimizer.t
            self.optimizer.step(self.factor(step, self.steps_total), self.active)
            total += losses.detach() * (len(X) if index is None else index.shape[1])
        return (total / len(X)).cpu().numpy()

    def _batches(self, n: int, device):
        if self.batch_size >= n:
            yield None  # full batch: every member sees all rows, no gather
            return
        order = torch.rand(self.k, n, generator=self.generator).argsort(dim=1).to(device)
        yield from order.split(self.batch_size, dim=1)

    @torch.no_grad()
    def evaluate(self, X, Y, chunk: int = 65536) -> np.ndarray:
        total = torch.zeros(self.k, device=X.device)
        # Chunks sized for these rows, not the training batch: a small validation set goes in one pass.
        groups = member_chunks(self.k, min(chunk, len(X)) * max(self.model.sizes), X.device)
        for i in range(0, len(X), chunk):
            rows = len(X[i : i + chunk])
            total += torch.cat([member_loss(self.loss_name, self.model(X[i : i + chunk], members), Y[i : i + chunk])
                                for members in groups]) * rows
        return (total / max(1, len(X))).cpu().numpy()

    def _track(self, epoch: int, train: np.ndarray, val: np.ndarray) -> None:
        """Per-member early stopping and divergence; copy improved members' weights."""
        self.member_rows.append([float(v) for v in val])
        improved = torch.zeros(self.k, dtype=torch.bool)
        for k in range(self.k):
            if not self.running[k]:
                continue
            if self.first_loss[k] is None and math.isfinite(train[k]):
                self.first_loss[k] = max(float(train[k]), 1e-12)
            exploded = self.first_loss[k] is not None and train[k] > self.diverge_factor * self.first_loss[k] and train[k] > 10
            if not (math.isfinite(train[k]) and math.isfinite(val[k])) or exploded:
                self.diverged[k] = True
                self.stop_member(k)
            elif val[k] < self.best[k] * (1 - self.min_relative_improvement) or self.best_epoch[k] is None:
                self.best[k], self.best_epoch[k], self.wait[k] = float(val[k]), epoch, 0
                improved[k] = True
            else:
                self.wait[k] += 1
                if self.wait[k] >= self.patience:
                    self.stopped_early[k] = True
                    self.stop_member(k)
        if improved.any():
            mask = improved.to(self.active.device)
            with torch.no_grad():
                for best, p in zip(self.best_state, self.model.parameters()):
                    best[mask] = p[mask]

    def _restore_best(self) -> None:
        kept = torch.tensor([e is not None for e in self.best_epoch], device=self.active.device)
        with torch.no_grad():
            for best, p in zip(self.best_state, self.model.parameters()):
                p[kept] = best[kept]
        finite = [e for e in self.best_epoch if e is not None]
        self.history.best_epoch = max(finite) if finite else None
        self.history.stopped_early = all(self.stopped_early)
        # A member that never had a finite validation loss has no weights to restore, and would
        # make the mean NaN: the ensemble as a whole then counts as diverged.
        self.history.diverged = all(self.diverged) or not all(e is not None for e in self.best_epoch)
        if self.history.diverged:
            self.history.diverged_at = self.history.epochs

    def _logs(self, epoch, train, val, seconds) -> dict:
        ok_train, ok_val = train[np.isfinite(train)], val[np.isfinite(val)]
        return {
            "epoch": epoch,
            "train_loss": float(ok_train.mean()) if len(ok_train) else math.nan,
            "val_loss": float(ok_val.mean()) if len(ok_val) else math.nan,
            "lr": float(self.optimizer.lr[0]) * self.factor(max(0, self.optimizer.t - 1), self.steps_total),
            "seconds": seconds,
            "member_val_loss": [float(v) for v in val],
        }

    def member_summary(self) -> list[dict]:
        return [{"seed": self.model.seeds[k], "best_epoch": self.best_epoch[k], "best_val_loss": self.best[k],
                 "stopped_early": self.stopped_early[k], "diverged": self.diverged[k]} for k in range(self.k)]


def member_chunks(k: int, values_per_member: int, device) -> list[slice]:
    """Slices of the K members that go through one forward/backward together."""
    if device.type != "cpu":
        return [slice(0, k)]
    size = max(1, min(k, CPU_CHUNK_VALUES // max(1, values_per_member)))
    return [slice(i, min(i + size, k)) for i in range(0, k, size)]


# ---------------------------------------------------------------- the fitted ensemble


class FittedEnsemble(FittedModel):
    """A :class:`FittedModel` whose predictions are the members' mean; adds ``predict_std``.

    Regression averages values (the scalers are affine, so averaging scaled outputs is the same);
    classification averages probabilities, not logits.
    """

    @torch.no_grad()
    def member_outputs(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """Every member's raw output ``[K, n, outputs]`` (scaled targets, or logits)."""
        self.model.eval()
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        parts = []
        for i in range(0, len(X), chunk):
            xb = torch.as_tensor(self.x_scaler.transform(X[i : i + chunk]), dtype=torch.float32, device=self.device)
            parts.append(self.model(xb).double().cpu().numpy())
        return np.concatenate(parts, axis=1) if parts else np.zeros((self.model.k, 0, len(self.outputs)))

    def member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Regression: each member's values in original units ``[K, n, outputs]``."""
        return self.y_scaler.inverse_transform(self.member_outputs(X))

    def raw_output(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        return self.member_outputs(X, chunk).mean(axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.task == "classify":
            return self.predict_proba(X).argmax(axis=1)
        return self.member_predictions(X).mean(axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return _softmax(self.member_outputs(X)).mean(axis=0)

    def predict_std(self, X: np.ndarray) -> np.ndarray:
        """Spread of the members' predictions ``[n, outputs]`` (class probabilities for classification)."""
        if self.task == "classify":
            return _softmax(self.member_outputs(X)).std(axis=0)
        return self.member_predictions(X).std(axis=0)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- one ensemble fit, start to end


def fit(config, dataset, split, device, run_dir, callbacks=(), save=True):
    """What :func:`mlpfit.fitting.pipeline.fit` does for one model, for ``config.model.ensemble`` members."""
    from mlpfit.fitting import diagnose
    from mlpfit.fitting import pipeline

    t = config.train
    template, data = pipeline._build(config, dataset, split, device)  # scalers and tensors, shared by all
    seeds = [t.seed + k for k in range(config.model.ensemble)]
    model = EnsembleMLP(template.model.sizes, config.model.activation, config.model.output_activation, seeds).to(device)
    fitted = FittedEnsemble(model, template.x_scaler, template.y_scaler, dataset.inputs, dataset.outputs,
                            dataset.task, dataset.classes, dataset.encoding)
    trainer = EnsembleTrainer(model, data, epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer,
                              loss=t.loss, schedule=t.schedule, seed=t.seed, patience=t.patience, callbacks=callbacks)
    history = trainer.run()
    diagnostics = diagnose.after_training(history=history, config=config)
    summary = pipeline._summary(config, dataset, split, fitted, history, trainer.seconds, diagnostics, device, run_dir)
    summary["ensemble"] = model.k
    summary["members"] = [{**info, "metrics": metrics}
                          for info, metrics in zip(trainer.member_summary(), member_metrics(fitted, dataset, split))]
    result = pipeline.FitResult(config, fitted, history, summary, dataset, split, run_dir)
    if save:
        pipeline.save_result(result)
    return result


def member_metrics(fitted: FittedEnsemble, dataset, split) -> list[dict]:
    """Each member's train/val/test metrics, in original units, as a single fit reports them."""
    from mlpfit.fitting.metrics import classification_metrics, regression_metrics

    per_split = {}
    for name in ("train", "val", "test"):
        index = getattr(split, name)
        X, Y = dataset.X[index], dataset.Y[index]
        if dataset.task == "classify":
            proba = _softmax(fitted.member_outputs(X))
            per_split[name] = [classification_metrics(Y, p, dataset.classes) for p in proba]
        else:
            per_split[name] = [regression_metrics(Y, p) for p in fitted.member_predictions(X)]
    return [{name: per_split[name][k] for name in per_split} for k in range(fitted.model.k)]


def load_files(files, device: str = "cpu"):
    """A run folder written by an ensemble fit, as ``(config, FittedEnsemble, summary, history)``."""
    from mlpfit.fitting.pipeline import assemble

    arch = files.summary["architecture"]
    seeds = [m["seed"] for m in files.summary["members"]]
    model = EnsembleMLP(arch["sizes"], arch["activation"], arch["output_activation"], seeds)
    return assemble(files, model, device, FittedEnsemble, what=f"the {len(seeds)}-member architecture")


def report_lines(summary: dict) -> list[str]:
    """Lines for the text report: the spread of the members' test scores."""
    members = summary.get("members") or []
    if not members:
        return []
    if summary["task"] == "classify":
        scores = [m["metrics"]["test"]["accuracy"] for m in members]
        label = "test accuracy"
    else:
        scores = [min(m["metrics"]["test"]["r2"]) for m in members]
        label = "test R² (worst output)"
    return [f"  ensemble of {len(members)} members (mean prediction above); member {label}: "
            f"mean {np.mean(scores):.5f}, worst {np.min(scores):.5f}, best {np.max(scores):.5f}"]
