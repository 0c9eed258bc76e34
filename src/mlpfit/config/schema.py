"""Typed configuration: what to fit, with which model, trained how, written where.

The CLI and the Python API both build a :class:`FitConfig`; nothing below the CLI reads
command-line options. ``None`` means "choose for me from the data" and is resolved by
:func:`mlpfit.config.defaults.resolve`, which records the choice so a run folder always holds concrete
values. This module imports nothing heavy, so validating options stays instant.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field

# the registries' names, for validating without importing what they name
from mlpfit.config.options import (ACTIVATIONS, DECIMALS, DEVICES, ENGINES, LOSSES, OPTIMIZERS,  # noqa: F401
                                   OPTIONS, SCHEDULES, SEPARATORS, TASKS, THOUSANDS)
from mlpfit.config.defaults import BATCHED_OPTIMIZERS
from mlpfit.errors import UsageError


@dataclass
class DataConfig:
    """Where the examples come from and how they are split."""

    target: str = ""  # formula, CSV path, IDX folder or example name, as typed by the user
    domain: dict[str, tuple[float, float]] | tuple[float, float] | None = None  # None: -1:1 for every variable
    samples: int | None = None  # formula points to draw; None: 10,000 (enough for smooth 1-3 input functions)
    target_columns: list[str] | None = None  # CSV targets; None: the last column
    feature_columns: list[str] | None = None  # CSV inputs; None: every non-target column
    drop: list[str] | None = None  # CSV columns left out of the inputs (--drop)
    impute: bool = True  # fill missing CSV inputs (median / most frequent, plus a marker input); False refuses them
    sep: str | None = None  # CSV field separator; None: detected from the file (comma, semicolon, tab or bar)
    decimal: str | None = None  # CSV decimal mark; None: detected (a comma only in files not separated by commas)
    thousands: str | None = None  # CSV thousands separator; None: detected from cells like 1,234,567 ("" for none)
    data_dir: str | None = None  # IDX folder for mnist/fashion-mnist; None: search the usual places
    task: str | None = None  # "regress" or "classify"; None: detected from the target
    val_fraction: float = 0.1  # held out for early stopping and model choice
    test_fraction: float = 0.1  # held out, never seen in training: the honest score
    # an ensemble's validation rows: "own" (each member holds out its own, so together they train on every
    # non-test row) or "shared" (every member trains and validates on the same rows); None: own for a CSV
    # table's measurements, shared for sampled formulas and images
    member_val: str | None = None
    scale: bool = True  # standardize inputs and (regression) targets; False is the tutorials' naive setup


MAX_INPUT_UNITS = 256  # an input's own units: more would make the first layer wider than any use of it


@dataclass
class ModelConfig:
    """The network's shape."""

    hidden: list[int] | None = None  # hidden widths; [] is a single Linear layer; None: [64, 64]
    activation: str | None = None  # between layers; None: tanh (smooth, so smooth targets fit to R² 0.999+)
    output_activation: str = "identity"  # on the last layer; identity, so any (scaled) target is reachable
    dropout: float | None = None  # share of hidden units dropped while training; None: 0.2 for images, else 0
    # members trained together as one batched model (member k: init seed+k); 1: a single MLP; None: 3 for a
    # table's regression (config.defaults.TABLE_MEMBERS; 5 under 1,000 training rows), else 1
    ensemble: int | None = None
    # hidden units of each input's own ahead of the shared layers: the first hidden layer then has inputs x N units,
    # unit k of input j seeing input j alone (a block-diagonal first layer); 0: a plain first layer; None: 8 for a
    # table's classes of up to 32 inputs under 10,000 rows (config.defaults.TABLE_INPUT_UNITS), else 0
    input_units: int | None = None


@dataclass
class TrainConfig:
    """How the weights are found."""

    epochs: int | None = None  # None: enough passes for about 6,000 optimizer steps, capped to 3,000 epochs
    batch_size: int | None = None  # None: full batch up to 512 examples, else 256 (minibatches beat full batch here)
    lr: float | None = None  # peak learning rate; None: 1e-2 for adam-family, 0.1 for sgd, 1.0 for lbfgs
    optimizer: str = "adam"  # robust without tuning
    loss: str | None = None  # None: mse for regression, cross_entropy for classification
    schedule: str | None = None  # None: "twocycle" for regression with the epochs chosen here (it may settle after 40%), else "onecycle" (warm up then anneal: a lower loss in the same steps than a constant lr)
    settle: float | None = None  # validation R² that ends a twocycle fit after its first cycle; None: 0.99995 for twocycle with mse, else 0 (never)
    extend: int | None = None  # most cycles a twocycle fit adds while its validation R² still rises; None: 5 when the epochs are chosen here, else 0 (never)
    alpha: float = 0.0  # L2 penalty, 0.5·alpha·Σ‖W‖²/batch rows (scikit-learn's alpha); 0: none
    weight_decay: float | None = None  # L2 penalty λ (adds λ·w to each gradient); None: 1e-3 for CSV tables up to 10,000 rows, else 0
    patience: int | None = None  # epochs without validation improvement before stopping; None: a fifth of the epochs, at least 10
    tol: float = 0.0  # a validation score better by less than this is no improvement (scikit-learn's tol); 0: any beyond noise
    shuffle: bool = True  # reshuffle the rows every epoch; False: batches in row order (scikit-learn's shuffle=False)
    precision: str = "float32"  # the NumPy engine's arithmetic; "float64" where the caller's data are (the estimators)
    seed: int = 0  # one seed fixes sampling, split, init and shuffling
    device: str = "auto"  # auto: cuda when available, else cpu
    threads: int | None = None  # CPU threads; None: 1 for small models (a second thread only adds overhead there)
    engine: str = "auto"  # auto: chosen by config/defaults.resolve; "torch", or "numpy" (hand-written backprop)


@dataclass
class RunConfig:
    """What is written and printed."""

    out: str | None = None  # run folder; None: runs/<name>-<timestamp>
    json: bool = False  # print one JSON object on stdout instead of a report
    quiet: bool = False  # print nothing but errors
    force: bool = False  # allow writing into an existing run folder
    plots: bool = True  # write loss/fit PNGs and report.html into the run folder (well under 2 s)


@dataclass
class FitConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FitConfig":
        data = dict(d.get("data", {}))
        if isinstance(data.get("domain"), dict):
            data["domain"] = {k: tuple(v) for k, v in data["domain"].items()}
        elif data.get("domain") is not None:
            data["domain"] = tuple(data["domain"])
        # a saved config was resolved: what older run folders leave out is what they trained with
        data.setdefault("member_val", "shared")
        return cls(
            data=DataConfig(**data),
            model=ModelConfig(**{"ensemble": 1, **d.get("model", {})}),
            train=TrainConfig(**d.get("train", {})),
            run=RunConfig(**d.get("run", {})),
        )


# ---------------------------------------------------------------- parsing option strings


def parse_hidden(text: str) -> list[int]:
    """``64,64`` -> [64, 64]; ``32x5`` -> five layers of 32; ``none``/``0`` -> [] (one Linear layer)."""
    spec = text.strip().lower()
    if spec in ("none", "0", "", "linear"):
        return []
    match = re.fullmatch(r"(\d+)\s*[x*]\s*(\d+)", spec)
    if match:
        width, depth = int(match.group(1)), int(match.group(2))
        sizes = [width] * min(depth, 65)  # depth > 64 is refused below; never build a huge list first
    else:
        try:
            sizes = [int(part) for part in spec.split(",")]
        except ValueError:
            raise UsageError(
                f"--hidden {text!r} is not a list of layer widths: use e.g. 64,64 or 32x5 or none"
            ) from None
    _check_hidden(sizes, text)
    return sizes


def _check_hidden(sizes: list[int], text: str) -> None:
    if any(size <= 0 for size in sizes):
        bad = next(size for size in sizes if size <= 0)
        raise UsageError(f"hidden sizes must be > 0, got {bad} in --hidden {text!r}: use e.g. 64,64")
    if len(sizes) > 64 or any(size > 65536 for size in sizes):
        raise UsageError(f"--hidden {text!r} is far too large: use at most 64 layers of at most 65536 units")


def parse_domain(text: str) -> dict[str, tuple[float, float]] | tuple[float, float]:
    """``-1:1`` -> (-1.0, 1.0) for every variable; ``x1=0:1,x2=-2:2`` -> per variable."""
    spec = text.strip()
    if "=" not in spec:
        return _parse_interval(spec, text)
    domain: dict[str, tuple[float, float]] = {}
    for part in spec.split(","):
        name, _, interval = part.partition("=")
        if not name.strip() or not interval:
            raise UsageError(f"--domain {text!r}: write each variable as NAME=LO:HI, e.g. x1=0:1,x2=-2:2")
        if name.strip() in domain:
            raise UsageError(f"--domain {text!r} names {name.strip()!r} twice: give each variable one interval")
        domain[name.strip()] = _parse_interval(interval, text)
    return domain


def _parse_interval(spec: str, whole: str) -> tuple[float, float]:
    lo_text, sep, hi_text = spec.partition(":")
    if not sep:
        raise UsageError(f"--domain {whole!r} is not LO:HI: write e.g. -1:1 or x1=0:1,x2=-2:2")
    lo, hi = _bound(lo_text, whole), _bound(hi_text, whole)
    if not (lo < hi) or not all(abs(v) < 1e12 for v in (lo, hi)):
        raise UsageError(f"--domain {whole!r} needs finite LO < HI, got {lo}:{hi}: e.g. -1:1")
    return (lo, hi)


def _bound(text: str, whole: str) -> float:
    """A domain bound: a number, or an expression of the formula grammar's constants (pi, 2*pi, -pi/2, e)."""
    try:
        return float(text)
    except ValueError:
        pass
    from mlpfit.data.sources.formula import constant_value  # only for bounds that are not plain numbers
    from mlpfit.errors import FormulaError

    try:
        return constant_value(text)
    except FormulaError:
        raise UsageError(f"--domain {whole!r}: bound {text.strip()!r} is not a number: write e.g. -1:1, 0:pi "
                         "or x1=0:1,x2=-2:2") from None


def parse_columns(text: str | None) -> list[str] | None:
    """``load`` -> ['load']; ``a,b`` -> ['a', 'b']."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError(f"column list {text!r} is empty: name at least one column, e.g. --target load")
    return names


def check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    """Refuse a name outside a registry, naming the closest valid choices."""
    if value is None or value in choices:
        return value
    close = difflib.get_close_matches(value, choices, n=2)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise UsageError(f"{option} {value!r} is not known: {hint}choose one of {', '.join(choices)}")


def check_positive(option: str, value, *, integer: bool = True, limit: float | None = None):
    if value is None:
        return None
    if not value > 0 or (limit is not None and value > limit) or value != value:
        bound = f" and at most {limit:g}" if limit is not None else ""
        kind = "a whole number" if integer else "a number"
        raise UsageError(f"{option} must be {kind} > 0{bound}, got {value}")
    return value


def _check_marks(d: DataConfig) -> None:
    d.sep = check_mark("--sep", d.sep, SEPARATORS)
    d.decimal = check_mark("--decimal", d.decimal, DECIMALS)
    d.thousands = check_mark("--thousands", d.thousands, THOUSANDS)


MARK_NAMES = {"\\t": "\t", "tab": "\t", "space": " ", "none": "", "comma": ",", "semicolon": ";", "point": ".",
              "dot": ".", "bar": "|", "apostrophe": "'"}


def check_mark(flag: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """``--sep``/``--decimal``/``--thousands`` as one character (``tab``, ``space``, ``none`` by name), or a UsageError."""
    if value is None:
        return None
    mark = MARK_NAMES.get(value.lower(), value) if isinstance(value, str) else value
    if not isinstance(mark, str) or mark not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise UsageError(f"{flag} must be one of {shown}, got {value!r}: e.g. {flag} ';'")
    return mark


def validate(config: FitConfig) -> FitConfig:
    """Check every value that can be checked without data; raise UsageError naming the first bad one."""
    m, t, d = config.model, config.train, config.data
    if m.output_activation in ("none", "linear"):
        m.output_activation = "identity"
    for option in OPTIONS:  # choices and limits, as config/options.py states them
        value = getattr(getattr(config, option.section), option.attribute)
        if option.kind == "choice":
            check_choice(option.cli_flag, value, option.choices)
        elif option.limit is not None:
            check_positive(option.cli_flag, value, integer=option.kind == "int", limit=option.limit)
    _check_marks(d)
    if t.seed < 0 or t.seed >= 2**63:
        raise UsageError(f"--seed must be between 0 and 2**63-1, got {t.seed}")
    if m.hidden is not None:
        _check_hidden(m.hidden, ",".join(map(str, m.hidden)))
    if t.weight_decay is not None and not 0 <= t.weight_decay <= 1:
        raise UsageError(f"--weight-decay must be in [0, 1], got {t.weight_decay}: e.g. 0.001, or 0 for none")
    if t.settle is not None and not (isinstance(t.settle, (int, float)) and 0 <= t.settle < 1):
        raise UsageError(f"--settle must be a validation R² in [0, 1), got {t.settle!r}: e.g. 0.9999, or 0 for never")
    if t.extend is not None and not (isinstance(t.extend, int) and not isinstance(t.extend, bool) and 0 <= t.extend <= 100):
        raise UsageError(f"--extend must be a number of cycles from 0 to 100, got {t.extend!r}: e.g. 5, or 0 for never")
    if m.input_units is not None and not (isinstance(m.input_units, int) and not isinstance(m.input_units, bool)
                                          and 0 <= m.input_units <= MAX_INPUT_UNITS):
        raise UsageError(f"--input-units must be a whole number from 0 to {MAX_INPUT_UNITS}, got {m.input_units!r}: "
                         "e.g. 8, or 0 for none")
    if m.dropout is not None and not 0 <= m.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {m.dropout}: e.g. 0.2")
    if not (isinstance(t.alpha, (int, float)) and 0 <= t.alpha < 1e6):
        raise UsageError(f"--alpha must be a number in [0, 1e6), got {t.alpha!r}: e.g. 1e-4")
    if not (isinstance(t.tol, (int, float)) and 0 <= t.tol < float("inf")):
        raise UsageError(f"tol must be a number >= 0, got {t.tol!r}: e.g. 1e-4")
    if t.precision not in ("float32", "float64"):
        raise UsageError(f"precision must be float32 or float64, got {t.precision!r}")
    _check_ensemble(m.ensemble, t)
    if d.member_val not in (None, "own", "shared"):
        raise UsageError(f"--member-val must be own or shared, got {d.member_val!r}")
    for name, frac in (("val", d.val_fraction), ("test", d.test_fraction)):
        if not 0 <= frac < 0.5:
            raise UsageError(f"{name} fraction must be in [0, 0.5), got {frac}")
    return config


def _check_ensemble(members: int, t: TrainConfig) -> None:
    """--ensemble needs an optimizer that has a batched (stacked-weights) version."""
    if (members or 1) > 1 and t.optimizer not in BATCHED_OPTIMIZERS:
        raise UsageError(f"--optimizer {t.optimizer} has no batched version for --ensemble {members}: use adam, adamw or sgd")
