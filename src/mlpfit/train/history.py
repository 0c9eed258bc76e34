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
        rows = [
            {"epoch": int(r["epoch"]), **{k: float(v) for k, v in r.items() if k != "epoch"}}
            for r in csv.DictReader(io.StringIO(text))
        ]
        return cls(rows=rows, **(meta or {}))

    def meta(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "diverged": self.diverged,
            "diverged_at": self.diverged_at,
        }
