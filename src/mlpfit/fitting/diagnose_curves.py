"""Verdicts from the learning curves: underfit or overfit, judged on how the training and validation
losses moved over the epochs, never on the kept weights' scores alone.

Early stopping restores the best epoch's weights, so the scores of the kept model hide what the
curves show: a net whose validation loss turned up at epoch 29 while its training loss fell to
0.003 has memorized its data (overfit), even if the restored weights score a modest training R².
So underfit needs training loss that had not gone low *and* validation that never turned; overfit
needs the turn (or a score gap at the kept weights). The two exclude each other by construction.
Each hint is checked against the config in use: it never names the setting already there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlpfit.fitting.diagnostic import Diagnostic

UNDERFIT_R2 = 0.9  # training R² below this: the net has not learned the function
UNDERFIT_ACCURACY = 0.8
OVERFIT_R2_GAP = 0.1  # validation R² this far below training R² at the kept weights
OVERFIT_ACCURACY_GAP = 0.1
TURNED = 1.25  # validation loss ended this many times above its best: it turned up
KEPT_FALLING = 0.8  # ... while the training loss fell below this share of its value at the best epoch
MEMORIZED = 3.0  # validation loss this many times the training loss at the end: the net memorized
# ... and, to call it overfitting, validation got clearly worse: its loss doubled (regression), or its
# accuracy fell as much as the overfit gap (classes: cross-entropy rises on a confident net whose
# accuracy holds; on wine's 18 validation rows one flipped row is a 0.056 drop).
LOSS_DOUBLED = 2.0
PARTED = 0.95  # training loss after the best epoch fell below this share of its value there
# Training loss at the end below this share of its value half-way: still learning. Judged over the
# second half, not the last epochs: a one-cycle schedule anneals the rate to ~0, so every run ends flat.
STILL_FALLING = 0.8
LONGER = 500  # the least number of epochs "train longer" suggests
FEW_EPOCHS = 10  # fewer epochs than this: too short to tell a plateau from a start
LARGEST_SUGGESTED_WIDTH = 1024
SMALLEST_SUGGESTED_WIDTH = 4


@dataclass
class Curves:
    """The numbers a verdict is built from, in the losses the network minimized (scaled units)."""

    epochs: int
    best_epoch: int
    train_best: float  # training loss at the best validation epoch
    val_best: float
    train_end: float  # at the last epoch
    val_end: float
    still_falling: bool  # the training loss was still going down at the end
    stopped_early: bool
    accuracy_best: float | None = None  # validation accuracy at the best epoch and the last (classes only)
    accuracy_end: float | None = None

    @property
    def turned(self) -> bool:
        """Validation loss rose after its best while the training loss kept falling."""
        return self.val_end > TURNED * self.val_best and self.train_end < KEPT_FALLING * self.train_best

    @property
    def parted(self) -> bool:
        """Training loss kept falling after validation stopped improving: what is left is noise to the net."""
        return self.epochs > self.best_epoch and self.train_end < PARTED * self.train_best

    @property
    def memorized(self) -> bool:
        """The curves show memorization: validation turned, got clearly worse and ended far above training."""
        if not (self.turned and self.val_end > MEMORIZED * self.train_end):
            return False
        if self.accuracy_best is not None and self.accuracy_end is not None:
            return self.accuracy_best - self.accuracy_end >= OVERFIT_ACCURACY_GAP
        return self.val_end > LOSS_DOUBLED * self.val_best

    def evidence(self) -> dict:
        numbers = {k: round(float(v), 6) for k, v in self.__dict__.items() if isinstance(v, float)}  # skips None
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, **numbers, "turned": self.turned,
                "parted": self.parted, "memorized": self.memorized,
                "still_falling": self.still_falling, "stopped_early": self.stopped_early}

    def describe(self) -> str:
        return (f"loss at the best epoch {self.best_epoch}: training {self.train_best:.3g}, validation "
                f"{self.val_best:.3g}; at epoch {self.epochs}: training {self.train_end:.3g}, validation {self.val_end:.3g}")


def learning_curves(history) -> Curves | None:
    """The curves' key numbers, or None when no epoch has finite losses (a diverged run)."""
    if history is None:
        return None
    rows = [r for r in history.rows if math.isfinite(r.get("train_loss", math.nan))
            and math.isfinite(r.get("val_loss", math.nan))]
    if not rows:
        return None
    train, val = np.array([r["train_loss"] for r in rows]), np.array([r["val_loss"] for r in rows])
    epochs = [r["epoch"] for r in rows]
    best = epochs.index(history.best_epoch) if history.best_epoch in epochs else int(np.argmin(val))
    accuracy = [r.get("val_accuracy") for r in rows]
    return Curves(epochs=int(epochs[-1]), best_epoch=int(epochs[best]), train_best=float(train[best]),
                  val_best=float(val[best]), train_end=float(train[-1]), val_end=float(val[-1]),
                  still_falling=still_falling(train), stopped_early=bool(history.stopped_early),
                  accuracy_best=accuracy[best], accuracy_end=accuracy[-1])


def still_falling(train: np.ndarray) -> bool:
    if len(train) < FEW_EPOCHS:
        return True
    return float(train[-1]) < STILL_FALLING * float(train[len(train) // 2])


# ---------------------------------------------------------------- the verdicts


def scores(summary: dict, split: str) -> dict:
    """The split's metrics at the kept weights. Members with their own validation rows are judged as each
    trained: on its own training and validation rows, their scores averaged (the ensemble's training rows
    include every member's held-out ones)."""
    if not summary.get("examples", {}).get("member_val"):
        return summary["metrics"][split]
    own = [member["metrics"][split] for member in summary["members"]]
    if summary["task"] == "classify":
        return {"accuracy": float(np.mean([m["accuracy"] for m in own]))}
    return {"r2": np.mean([m["r2"] for m in own], axis=0).tolist()}


def training_score(summary: dict) -> tuple[float, float, str]:
    """(score, the underfit limit, its name) on the training split at the kept weights."""
    train = scores(summary, "train")
    if summary["task"] == "classify":
        return train["accuracy"], UNDERFIT_ACCURACY, "accuracy"
    return min(train["r2"]), UNDERFIT_R2, "R²"


def score_gap(summary: dict) -> tuple[float, float, str, float, float]:
    """(gap, its limit, the score's name, training score, validation score) at the kept weights."""
    train, val = scores(summary, "train"), scores(summary, "val")
    if summary["task"] == "classify":
        return (train["accuracy"] - val["accuracy"], OVERFIT_ACCURACY_GAP, "accuracy", train["accuracy"],
                val["accuracy"])
    gaps = [a - b for a, b in zip(train["r2"], val["r2"])]
    k = int(np.argmax(gaps))
    return gaps[k], OVERFIT_R2_GAP, "R²", train["r2"][k], val["r2"][k]


def underfit(summary: dict, curves: Curves | None, config=None) -> Diagnostic | None:
    score, limit, what = training_score(summary)
    if not score < limit or (curves is not None and (curves.turned or curves.parted)):
        return None  # validation stopped improving while training went on: more training fits noise
    evidence = {"train_score": round(score, 6), "limit": limit, **(curves.evidence() if curves else {})}
    message = f"training {what} is only {score:.3f} after {summary['epochs']} epochs: the net has not learned the training data"
    if curves is not None:
        state = "still falling" if curves.still_falling else "flat"
        message += f" ({curves.describe()}; the training loss was {state} at the end)"
    return Diagnostic("underfit", message, underfit_hint(summary, curves, config), evidence=evidence)


def underfit_hint(summary: dict, curves: Curves | None, config) -> str:
    """Train longer while the loss still falls; a larger net once it is flat (never the one in use)."""
    epochs = summary["epochs"]
    if curves is None or curves.still_falling:
        return f"train longer (--epochs {max(epochs * 4, LONGER)})"
    bigger = larger_hidden(hidden_widths(summary))
    if bigger is None:
        return "the training loss is flat with a wide net: try another --lr or --activation"
    return f"the training loss is flat: use a larger net (--hidden {bigger})"


def overfit(summary: dict, curves: Curves | None, config=None) -> Diagnostic | None:
    if not summary.get("held_out", True):
        return None
    gap, limit, what, train_score, val_score = score_gap(summary)
    kept_gap = gap > limit and train_score >= training_score(summary)[1]  # a gap means memorizing once learned
    if not kept_gap and not (curves is not None and curves.memorized):
        return None
    examples, parameters = summary.get("examples", {}).get("train", 0), summary.get("parameters", 0)
    evidence = {"train_score": round(train_score, 6), "val_score": round(val_score, 6), "gap": round(gap, 6),
                "gap_limit": limit, "examples": examples, "parameters": parameters,
                **(curves.evidence() if curves else {})}
    parts = []
    if curves is not None and curves.turned:
        parts.append(f"validation loss was lowest at epoch {curves.best_epoch} ({curves.val_best:.3g}) and rose to "
                     f"{curves.val_end:.3g} by epoch {curves.epochs} while training loss fell from "
                     f"{curves.train_best:.3g} to {curves.train_end:.3g}")
    if kept_gap:
        parts.append(f"training {what} is far above validation {what} ({train_score:.3f} vs {val_score:.3f})")
    message = "; ".join(parts) + ": the net memorized its training points"
    per_example = summary.get("classes") if summary["task"] == "classify" else summary.get("outputs")
    if examples * max(1, len(per_example or [])) < parameters:  # one value per output or class score
        message += f" ({examples} training examples for {parameters} parameters)"
    if curves is not None and curves.turned:
        message += f"; the weights of epoch {curves.best_epoch} are kept"
    return Diagnostic("overfit", message, overfit_hint(summary, config), evidence=evidence)


def overfit_hint(summary: dict, config) -> str:
    """More points where the source can give them; else a smaller net (never the one in use)."""
    hints = []
    if summary.get("formula") and summary.get("domain") and config is not None and config.data.samples:
        hints.append(f"sample more points (--samples {4 * config.data.samples})")
    smaller = smaller_hidden(hidden_widths(summary))
    if smaller is not None:
        hints.append(f"use a smaller net (--hidden {smaller})")
    return " or ".join(hints) if hints else "use more examples"


def hidden_widths(summary: dict) -> list[int]:
    return list(summary.get("architecture", {}).get("sizes", [0, 0])[1:-1])


def larger_hidden(widths: list[int]) -> str | None:
    """The default 64,64 for a smaller net, else every width doubled; None when already very wide."""
    if not widths or sum(widths) < 128:
        return "64,64"
    if min(widths) >= LARGEST_SUGGESTED_WIDTH:
        return None
    return ",".join(str(min(2 * w, LARGEST_SUGGESTED_WIDTH)) for w in widths)


def smaller_hidden(widths: list[int]) -> str | None:
    """Every width divided by four (not below 4); None when the net is already that small."""
    if not widths or max(widths) <= SMALLEST_SUGGESTED_WIDTH:
        return None
    return ",".join(str(max(SMALLEST_SUGGESTED_WIDTH, w // 4)) for w in widths)


def overconfident(summary: dict, curves: Curves | None, config=None) -> Diagnostic | None:
    """A classifier whose validation cross-entropy turned up and at least doubled while its accuracy held (so
    not overfit): past its best epoch the net grew sure of the rows it had not seen (wine: 0.06 at epoch 20,
    0.21 by epoch 51, accuracy 1.0 -> 0.94). The best epoch's weights are kept; the epochs after it were spent
    memorizing, and they are what a longer --patience or a smaller penalty would keep."""
    if summary["task"] != "classify" or curves is None or curves.accuracy_best is None or curves.memorized:
        return None
    if not (curves.turned and curves.val_end >= LOSS_DOUBLED * curves.val_best):
        return None
    message = (f"validation loss was lowest at epoch {curves.best_epoch} ({curves.val_best:.3g}) and rose to "
               f"{curves.val_end:.3g} by epoch {curves.epochs} while training loss fell from {curves.train_best:.3g} "
               f"to {curves.train_end:.3g} and validation accuracy went {curves.accuracy_best:.3f} -> "
               f"{curves.accuracy_end:.3f}: past epoch {curves.best_epoch} the net grew overconfident on new rows "
               f"(its probabilities near 0 and 1); the weights of epoch {curves.best_epoch} are kept")
    return Diagnostic("overconfident", message, overconfident_hint(config), evidence=curves.evidence())


def overconfident_hint(config) -> str:
    """Stop sooner, or hold the memorizing off with a larger penalty (never the setting in use)."""
    t = getattr(config, "train", None)
    patience, decay = getattr(t, "patience", None), getattr(t, "weight_decay", None) or 0.0
    hints = [f"stop sooner after the best epoch (--patience {max(5, patience // 2)})"] if patience and patience > 5 else []
    hints.append(f"hold the memorizing off (--weight-decay {max(1e-3, 10 * decay):g})")
    return " or ".join(hints)


def verdicts(summary: dict, history=None, config=None) -> list[Diagnostic]:
    """At most one of overfit, overconfident and underfit: a curve that turned is never called underfit."""
    curves = learning_curves(history)
    for judge in (overfit, overconfident, underfit):
        found = judge(summary, curves, config)
        if found is not None:
            return [found]
    return []
