"""Options that mean nothing for the TARGET at hand: refused where surely a mistake, else a warning.

``--target age`` with a formula names a column that cannot exist, so it is refused; ``--samples``
with a CSV file is more likely a leftover from an earlier command, so it is ignored with a word.
Either way nothing is silently dropped. This runs before any data is read (and before torch loads).
"""

from __future__ import annotations

import difflib
import warnings

from mlpfit.data.sources import IMAGE_EXAMPLES, target_kind
from mlpfit.data.sources.examples import EXAMPLES
from mlpfit.errors import MlpfitWarning, UsageError

IDX_EXAMPLES = ("mnist", "fashion-mnist")  # the examples that read --data-dir
FRAME = "frame"  # the kind of a DataFrame given to mlpfit.fit


def kind_of(target: str) -> str:
    """'formula', 'points' (a fixed point set), 'csv', 'idx' (a folder), 'images' (an image example) or 'frame'."""
    kind = target_kind(target) if target != FRAME else FRAME
    if kind != "example":
        return kind
    if target in IMAGE_EXAMPLES:
        return "images"
    return "formula" if EXAMPLES[target].formula is not None else "points"


def check_applicable(data, target_kind_name: str | None = None, spell=lambda option: option) -> None:
    """Raise UsageError for an option that surely does not fit the target; warn about one that is ignored.

    ``spell`` names an option in the warning (the Python API passes ``samples`` for ``--samples``).
    """
    kind = target_kind_name or kind_of(data.target)
    what = _described(data.target, kind)
    table = kind in ("csv", FRAME)
    for option, given in (("--target", data.target_columns), ("--features", data.feature_columns),
                          ("--drop", data.drop)):
        if given is not None and not table:
            raise UsageError(f"{option} names columns of a CSV table, but {what}: drop {option}")
    if data.data_dir is not None and kind == "formula":
        close = difflib.get_close_matches(data.target, IDX_EXAMPLES, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"--data-dir is for the examples {' and '.join(IDX_EXAMPLES)}, but {what}: {hint}"
                         "or drop --data-dir")
    ignored = []
    if data.domain is not None and kind != "formula":
        ignored.append(("--domain", "only a formula is sampled over a domain"))
    if data.samples is not None and kind != "formula":
        ignored.append(("--samples", "only a formula is sampled"))
    if data.data_dir is not None and not (kind == "images" and data.target in IDX_EXAMPLES):
        ignored.append(("--data-dir", f"it is for the examples {' and '.join(IDX_EXAMPLES)}"))
    if data.task is not None and not table:
        ignored.append(("--task", "it chooses between regression and classification for a table"))
    if not data.impute and not table:
        ignored.append(("--no-impute", "only a table can have missing values"))
    for option, why in ignored:
        warnings.warn(f"{spell(option)} is ignored: {what}, and {why}", MlpfitWarning, stacklevel=3)


def _described(target: str, kind: str) -> str:
    return {
        "formula": f"{target!r} is a formula",
        "points": f"{target!r} is a fixed set of points",
        "csv": f"{target!r} is a CSV table",
        "idx": f"{target!r} is a folder of IDX images",
        "images": f"{target!r} is an image set",
        FRAME: "the data is a table",
    }[kind]
