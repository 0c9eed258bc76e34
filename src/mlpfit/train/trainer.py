"""The training loop, readable top to bottom, for every engine and any number of members.

An *engine* (mlpfit.engines) holds a model of K ≥ 1 members, its optimizer and its data, and
implements the protocol below; the :class:`Trainer` runs it epoch by epoch and hands a flat
``logs`` dict to the callbacks (early stopping, divergence guard, progress, pruning), which stop
members through :meth:`Trainer.stop_members`. A single fit is K = 1; an ensemble or a batch of
sweep settings is K > 1. So every rule about stopping is written once and holds per member.

Engine protocol (duck-typed):
  members: int                                     K
  train_epoch(should_stop) -> np.ndarray | None    one pass; each member's mean training loss [K],
                                                   or None when ``should_stop()`` ended it mid-epoch
  evaluate() -> dict                               {"val_loss": [K]} (+ "val_accuracy": [K] for classes)
  lr: float                                        the learning rate in force (first member)
  freeze(frozen)                                   members (bool [K]) that take no more steps
  keep(members) / restore(members)                 remember / put back those members' weights (best epoch)
  state_dict() / load_state_dict(state)            everything needed to continue exactly (checkpoints), as NumPy
  step: int                                        steps done in the running epoch (a resumed epoch skips them)
  optimizer_state()                                the optimizer's moments, for a later fit that continues this one
  network_state(stacked) -> dict                   the weights now, under torch's names (a Network's state_arrays)
  device: str                                      where it computes ("cpu", "cuda:0")
  hold_threads() (optional)                        a context in which the engine keeps its worker threads
                                                   from epoch to epoch (the trainer holds it around its epochs)
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import numpy as np

from mlpfit.train.history import History


@dataclass
class TrainData:
    """Scaled training and validation arrays, already where the engine computes (tensors or ndarrays)."""

    X: object  # training inputs
    Y: object  # training targets: scaled floats, or class indices
    X_val: object
    Y_val: object
    # per-row weights of the training rows ([n], scikit-learn's sample_weight; [K, n]: member k's own weights,
    # 0 on the rows it holds out); None: all equal
    W: object = None
    W_val: object = None  # the validation rows' weights, [n] or [K, n] likewise; None: all equal


class Trainer:
    def __init__(self, engine, epochs: int, callbacks=(), network=None):
        self.engine, self.epochs = engine, epochs
        self.shell = network  # the network being trained (scalers, names): what network() fills with weights
        self.callbacks = list(callbacks)
        self.history = History()
        self.running = np.ones(engine.members, dtype=bool)  # members still training
        self.stop_training = False  # a callback may end the whole run
        self.should_stop = lambda: False  # checked after every step: True interrupts (Ctrl-C)
        self.interrupted = False  # True when should_stop ended the run mid-epoch: the state is a checkpoint
        self.epoch = 1  # the epoch running (or next to run)
        self.seconds = 0.0  # training time so far, across a resume
        self.started = False  # on_train_begin has run (not again on resume)

    @property
    def members(self) -> int:
        return self.engine.members

    def network(self):
        """The network as it stands now (a :class:`mlpfit.network.Network`): for callbacks that look at it."""
        return self.shell.with_state(self.engine.network_state(self.shell.stacked))

    def stop_members(self, members: np.ndarray) -> None:
        """Stop training the members marked in ``members`` (bool [K]); their weights stay as they are."""
        self.running &= ~np.asarray(members, dtype=bool)
        self.engine.freeze(~self.running)

    def run(self) -> History:
        start = time.perf_counter() - self.seconds  # a resumed run also counts the time before the interrupt
        if not self.started:
            self.started = True
            for cb in self.callbacks:
                cb.on_train_begin(self)
        epoch = self.epoch
        with getattr(self.engine, "hold_threads", contextlib.nullcontext)():
            while epoch <= self.epochs:  # a callback may add epochs (train.callbacks.TrainOn)
                self.epoch = epoch
                train_loss = self.engine.train_epoch(self.should_stop)
                if train_loss is None:  # interrupted mid-epoch: no logs, no on_train_end
                    self.interrupted, self.seconds = True, time.perf_counter() - start
                    return self.history
                logs = self.logs(epoch, train_loss, self.engine.evaluate(), time.perf_counter() - start)
                self.history.append(logs)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, logs)
                if self.stop_training or not self.running.any():
                    break
                epoch += 1
        self.epoch = self.epochs + 1
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.seconds = time.perf_counter() - start
        return self.history

    def logs(self, epoch: int, train_loss: np.ndarray, scores: dict, seconds: float) -> dict:
        """Flat logs: means over members (plain values for K = 1) and each member's values."""
        logs = {"epoch": epoch, "train_loss": finite_mean(train_loss), "val_loss": finite_mean(scores["val_loss"]),
                "lr": self.engine.lr, "seconds": seconds,
                "member_train_loss": train_loss, "member_val_loss": scores["val_loss"]}
        if "val_accuracy" in scores:
            logs["val_accuracy"] = finite_mean(scores["val_accuracy"])
            logs["member_val_accuracy"] = scores["val_accuracy"]
        return logs

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "epochs": self.epochs, "seconds": self.seconds, "running": self.running.tolist(),
                "history": {"rows": self.history.rows, **self.history.meta()},
                "engine": self.engine.state_dict(),
                "callbacks": {type(cb).__name__: cb.state_dict() for cb in self.callbacks
                              if cb.state_dict() is not None}}  # only the stateful ones: progress bars may differ

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint; the engine and callbacks check their own parts."""
        running = np.asarray(state["running"], dtype=bool)
        if running.shape != (self.members,):
            raise ValueError(f"{running.shape} running flags for {self.members} members")
        extendable = sum(getattr(cb, "extra_epochs_allowed", 0) for cb in self.callbacks)
        epochs = int(state.get("epochs", self.epochs))  # more than configured when the fit trained on
        if not self.epochs <= epochs <= self.epochs + extendable:
            raise ValueError(f"{epochs} epochs where the fit has {self.epochs} (up to {self.epochs + extendable})")
        epoch = int(state["epoch"])
        if not 1 <= epoch <= epochs:
            raise ValueError(f"epoch {epoch} outside 1..{epochs}")
        self.engine.load_state_dict(state["engine"])
        saved = state["callbacks"]
        for cb in self.callbacks:
            if cb.state_dict() is not None:
                cb.load_state_dict(saved[type(cb).__name__], self.members)
        self.history = History.from_state(state["history"])
        self.epoch, self.seconds, self.running, self.started = epoch, float(state["seconds"]), running, True
        self.epochs = epochs
        self.engine.freeze(~self.running)


def finite_mean(values: np.ndarray) -> float:
    """Mean over the members whose value is finite; NaN when none is (a diverged single fit)."""
    values = np.asarray(values, dtype=np.float64)
    ok = values[np.isfinite(values)]
    return float(ok.mean()) if len(ok) else math.nan
