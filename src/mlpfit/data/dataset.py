"""A dataset in memory, and its split into train / validation / test.

Every source (formula, CSV, IDX, example) ends here: float64 NumPy arrays plus the names that the
run folder and ``predict`` need. Tensors (or NumPy arrays for the NumPy engine) are made from it once, in fitting/build.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Below this many examples, holding out a validation and test split would leave too little to
# learn from (seed 002 has 10 points): train on everything and say so.
MIN_EXAMPLES_TO_SPLIT = 50
OWN_VALIDATION_STREAM = 17  # own_validation's generator: the run's seed and this, apart from the split's


@dataclass
class Dataset:
    name: str  # short name for the run folder: example name, file stem, or "formula"
    X: np.ndarray  # [n, inputs] float64 (images flattened, raw pixel values)
    Y: np.ndarray  # [n, outputs] float64 for regression; [n] int64 class index for classification
    inputs: list[str]  # input names (formula variables, CSV feature columns, pixel names)
    outputs: list[str]  # output names (formula expressions, CSV target columns, "label")
    task: str = "regress"  # "regress" or "classify"
    classes: list | None = None  # class labels in index order, for classification
    formula: str | None = None  # the formula text when the truth is known (for plots and fresh checks)
    domain: dict[str, tuple[float, float]] | None = None  # sampling box per input, for formula runs
    image_shape: tuple[int, ...] | None = None  # (h, w) when inputs are pixels
    notes: list[str] = field(default_factory=list)  # facts about the data worth telling the user
    fixed_test: int = 0  # the last this-many rows are the published test set (IDX t10k); 0: split one off
    encoding: object = None  # a table's TableEncoding (sources.encoding): raw columns -> inputs; None otherwise
    weights: np.ndarray | None = None  # [n] per-row weights (scikit-learn's sample_weight); None: all rows count alike
    table: bool = False  # rows of a CSV file: measurements, often few and noisy (small-table defaults)
    val_rows: np.ndarray | None = None  # rows the caller holds out for validation (the estimators: stratified, by
    # weight); None: split_indices draws them


@dataclass
class Split:
    train: np.ndarray  # indices into the dataset
    val: np.ndarray
    test: np.ndarray
    held_out: bool  # False when everything is training data (tiny datasets)
    # [K, m]: each ensemble member's own validation rows (own_validation), the rest of train its training rows;
    # None: every member trains on train and validates on val
    member_val: np.ndarray | None = None

    def own_rows(self, name: str, members: int) -> np.ndarray:
        """[K, rows of split ``name``] (train, val or test): the rows each member trains or validates on. Where
        the members hold out their own validation rows, member k's own; else, and for test, every row."""
        rows = getattr(self, name)
        if self.member_val is None or name == "test":
            return np.ones((members, len(rows)), bool)
        held = np.stack([np.isin(rows, own) for own in self.member_val])
        return held if name == "val" else ~held


def given_split(n: int, val_rows: np.ndarray) -> Split:
    """The caller's validation rows held out, every other row trained on (no test rows); none given: no split."""
    val = np.unique(np.asarray(val_rows, dtype=np.int64))
    if not len(val):
        everything = np.arange(n)
        return Split(everything, everything, everything, held_out=False)
    if val[0] < 0 or val[-1] >= n or len(val) == n:
        raise ValueError(f"validation rows must be some, not all, of 0..{n - 1}")
    return Split(np.setdiff1d(np.arange(n), val), val, np.zeros(0, dtype=np.int64), held_out=True)


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int, fixed_test: int = 0) -> Split:
    """Shuffle once with the run's seed and cut; tiny sets are not split at all.

    With ``fixed_test``, the last rows are the test set as published and validation comes out of
    the rest. Fractions of 0 for both (estimators with early_stopping=False, partial_fit) hold
    nothing out either.
    """
    everything = np.arange(n)
    nothing_asked = val_fraction == 0 and test_fraction == 0 and not fixed_test
    if n - fixed_test < MIN_EXAMPLES_TO_SPLIT or nothing_asked:
        return Split(everything, everything, everything, held_out=False)
    pool = n - fixed_test
    order = np.random.default_rng(seed).permutation(pool)
    n_test = 0 if fixed_test or test_fraction == 0 else max(1, int(round(n * test_fraction)))
    n_val = max(1, int(round(pool * val_fraction)))
    test = np.arange(pool, n) if fixed_test else order[:n_test]
    val, train = order[n_test : n_test + n_val], order[n_test + n_val :]
    return Split(np.sort(train), np.sort(val), np.sort(test), held_out=True)


def own_validation(split: Split, members: int, seed: int) -> Split:
    """The members of an ensemble each holding out their own validation rows, as many as ``split.val`` has,
    from every row that is not a test row: member k validates on its rows and trains on the others, so
    together the members train on every non-test row and each one's best epoch is still chosen on rows it
    never saw (cross-validation bagging). The members' rows do not overlap while they fit, then wrap round.
    ``train`` becomes every non-test row, ``val`` every row some member validates on; test is kept."""
    pool = np.union1d(split.train, split.val)
    m = len(split.val)
    order = np.random.default_rng([seed, OWN_VALIDATION_STREAM]).permutation(pool)
    own = np.sort(np.stack([order[(k * m + np.arange(m)) % len(pool)] for k in range(members)]), axis=1)
    return Split(pool, np.unique(own), split.test, held_out=True, member_val=own)
