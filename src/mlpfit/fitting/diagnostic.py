"""One finding about a run: what is wrong, with the numbers that show it, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Diagnostic:
    code: str  # stable identifier, e.g. "diverged"
    message: str  # what is wrong with this run, with its numbers
    hint: str  # what to do about it
    severity: str = "warning"  # "error" when the model is not usable
    evidence: dict = field(default_factory=dict)  # the numbers the verdict was computed from, by name

    def to_dict(self) -> dict:
        return asdict(self)
