"""Per-epoch history: plain data that plots, reports and the run folder read."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

COLUMNS = ("epoch", "train_loss", "val_loss", "lr", "seconds")
OPTIONAL = ("val_accuracy",)  # classification only


@dataclass
class History:
    rows: list[dict] = field(default_factory=list)  # one flat `logs` dict per epoch, keys COLUMNS
    best_epoch: int | None = None  # epoch whose weights were kept (early stopping)
    stopped_early: bool = False  # True when patience ran out before the last epoch
    settled: bool = False  # True when a twocycle fit ended after its first cycle (train.callbacks.Settle)
    extra_cycles: int = 0  # cycles trained past the epochs while validation still improved (train.callbacks.TrainOn)
    diverged: bool = False  # True when the loss became NaN/inf or exploded
    diverged_at: int | None = None  # the epoch it happened

    def append(self, logs: dict) -> None:
        self.rows.append({key: logs[key] for key in (*COLUMNS, *OPTIONAL) if key in logs})

    def column(self, key: str) -> list:
        return [row[key] for row in self.rows]

    @property
    def epochs(self) -> int:
        return len(self.rows)

    def to_csv(self) -> str:
        out = io.StringIO()
        fields = [*COLUMNS, *(key for key in OPTIONAL if self.rows and key in self.rows[0])]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str, meta: dict | None = None) -> "History":
        """The history a run folder's history.csv holds; an edited file that is not one raises ValueError."""
        try:
            # newline="": the csv module sees every line end itself, so a stray carriage return is a
            # row end or a parse error, never a raw error the reader was not asked to handle.
            records = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as err:
            raise ValueError(f"history.csv is not a table ({err})") from None
        rows = [{"epoch": int(r["epoch"]), **{k: float(v) for k, v in r.items() if k != "epoch"}} for r in records]
        return cls(rows=rows, **(meta or {}))

    def meta(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "settled": self.settled,
            "extra_cycles": self.extra_cycles,
            "diverged": self.diverged,
            "diverged_at": self.diverged_at,
        }

    @classmethod
    def from_state(cls, state: dict) -> "History":
        """A history saved by a checkpoint: rows of known columns with numbers, and the flags."""
        rows = state["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) and set(r) <= {*COLUMNS, *OPTIONAL} for r in rows):
            raise ValueError("history rows must be dicts of the known columns")
        for row in rows:
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values()):
                raise ValueError("history values must be numbers")
        meta = {key: state[key] for key in ("best_epoch", "stopped_early", "diverged", "diverged_at")}
        meta["settled"] = bool(state.get("settled", False))  # absent from checkpoints older than twocycle
        meta["extra_cycles"] = int(state.get("extra_cycles", 0))  # absent from checkpoints older than TrainOn
        return cls(rows=[dict(r) for r in rows], **meta)
