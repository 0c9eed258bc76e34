"""The options of a fit, as data: one table from which the CLI's options and help, the Python API's
keyword checks and the config's validation all come.

Each :class:`Option` names its place in :class:`~mlpfit.config.schema.FitConfig`, its kind, its
limits or choices, one sentence of help and the rule that chooses its default from the data. The
default *values* are the config dataclasses' (config/schema.py); the rules that fill a ``None`` live in
config/defaults.py, and the sentences here describe them, so ``--help`` shows both.
"""

from __future__ import annotations

from dataclasses import dataclass

# Registries live next to their implementations; these name lists let the CLI validate
# without importing torch. tests/test_config.py checks they match the real registries.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "silu", "elu", "leaky_relu", "softplus", "identity")
OPTIMIZERS = ("adam", "adamw", "radam", "sgd", "rmsprop", "lbfgs")
LOSSES = ("mse", "mae", "huber", "cross_entropy", "bce", "poisson")
SCHEDULES = ("onecycle", "twocycle", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")
TASKS = ("regress", "classify")
ENGINES = ("auto", "torch", "numpy")
SEPARATORS = (",", ";", "\t", "|")  # CSV field separators, tried in this order when detecting; the first wins a tie
DECIMALS = (".", ",")
THOUSANDS = (",", ".", " ", "'", "")  # "" = none


@dataclass(frozen=True)
class Option:
    key: str  # keyword of mlpfit.fit; the CLI flag is --key with dashes (unless `flag` says otherwise)
    section: str  # the FitConfig section: data, model, train or run
    kind: str  # int, float, text, choice, hidden, domain, columns, flag (True when given), off (False when given)
    help: str  # what it does, one sentence
    default: str = ""  # how the default is chosen, when the config's value is None
    choices: tuple[str, ...] = ()  # the registry's names, for kind "choice"
    limit: float | None = None  # the largest value accepted (numbers must also be > 0)
    metavar: str = ""  # the value's placeholder in --help
    field: str | None = None  # the config attribute, when it differs from key
    flag: str | None = None  # the CLI flag, when it differs from --key

    @property
    def attribute(self) -> str:
        return self.field or self.key

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.key.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("domain", "data", "domain", "Sampling box for a formula: -1:1 for every input, or x1=0:1,x2=-2:2; bounds may use pi and e (0:2*pi).",
           "-1:1", metavar="LO:HI"),
    Option("samples", "data", "int", "Points to sample from a formula.", "10000", limit=50_000_000, metavar="N"),
    Option("target_columns", "data", "columns", "CSV column(s) to predict.", "the last column",
           metavar="COL[,COL]", flag="--target"),
    Option("features", "data", "columns", "CSV input columns.", "every other column", metavar="COL[,COL]",
           field="feature_columns"),
    Option("drop", "data", "columns", "CSV columns to leave out of the inputs (row ids are left out by themselves).",
           metavar="COL[,COL]"),
    Option("impute", "data", "off", "Refuse missing CSV inputs instead of filling them (median / most frequent, "
           "plus a marker input).", flag="--no-impute"),
    Option("sep", "data", "text", "CSV field separator: , ; tab or |.", "detected from the file", metavar="CHAR"),
    Option("decimal", "data", "text", "CSV decimal mark: . or ,.", "detected from the file", metavar="CHAR"),
    Option("thousands", "data", "text", "CSV thousands separator: , . space ' or none.", "detected from the file",
           metavar="CHAR"),
    Option("data_dir", "data", "text", "Folder of MNIST-format IDX files for mnist / fashion-mnist.",
           "the usual places, and Debian's dataset-fashion-mnist", metavar="DIR"),
    Option("task", "data", "choice", "What to predict.", "detected from the target", choices=TASKS,
           metavar="KIND"),
    Option("hidden", "model", "hidden", "Hidden layer widths: 64,64 or 32x5 (five layers of 32) or none (one Linear layer).",
           "64,64; images 512,256; tables 128,128 (64,64 for a regression under 1,000 training rows, 256,128 from 10,000)", metavar="SPEC"),
    Option("activation", "model", "choice", "Between layers.", "tanh; images and tables relu", choices=ACTIVATIONS,
           metavar="NAME"),
    Option("output_activation", "model", "choice", "On the output layer; keep identity unless the targets are bounded.",
           choices=ACTIVATIONS, metavar="NAME"),
    Option("dropout", "model", "float", "Share of hidden units dropped while training.", "0.2 for images, 0.15 for tables, else 0",
           metavar="P"),
    Option("alpha", "train", "float", "L2 penalty: adds 0.5*alpha*(sum of squared weights)/(batch rows) to the loss, "
           "as scikit-learn's MLP does (biases are not penalized; the estimators' alpha). For the optimizer's "
           "own decay see --weight-decay.", metavar="X"),
    Option("ensemble", "model", "int", "Train K members (init seeds seed..seed+K-1) as one batched model; "
           "predict gives their mean and spread.", "3 for a table's regression (each 500 steps; 5 under 1,000 training rows), else 1",
           limit=4096, metavar="K"),
    Option("input_units", "model", "int", "Hidden units of each input's own ahead of the shared --hidden layers: "
           "the first hidden layer gets inputs x N units, each seeing one input (its thresholds, a level's effect) "
           "before the layers mix them; 0 for none.", "8 for a table's classes of up to 32 inputs and under 10,000 rows (with 64,64), else 0",
           metavar="N"),
    Option("member_val", "data", "choice", "An ensemble's validation rows: own (each member holds out its own and "
           "trains on the rest, so together they learn from every non-test row) or shared (all members the same).",
           "own for a CSV table, shared for formulas and images", choices=("own", "shared"), metavar="WHICH"),
    Option("epochs", "train", "int", "Passes over the training data.",
           "about 6000 optimizer steps; images 30; tables about 1500 steps (100-300 epochs), a regression's "
           "3 members 500 each (40-300 epochs); a few measured columns up to 10000 rows 300",
           limit=1_000_000, metavar="N"),
    Option("batch_size", "train", "int", "Examples per step.", "all up to 512 (tables: 256), else 256", limit=10_000_000,
           metavar="N"),
    Option("lr", "train", "float", "Peak learning rate.", "0.01 (adam; images 0.002), 0.1 (sgd), 1 (lbfgs)",
           limit=1e6, metavar="X"),
    Option("optimizer", "train", "choice", "How the weights move.", choices=OPTIMIZERS, metavar="NAME"),
    Option("loss", "train", "choice", "What training minimizes (bce: one logistic unit per 0/1 target column; "
           "poisson: counts >= 0 predicted as exp(output); both leave the targets unscaled).", "mse, or cross_entropy for classes",
           choices=LOSSES, metavar="NAME"),
    Option("schedule", "train", "choice", "Learning-rate schedule: onecycle (warm up, then anneal), twocycle (a "
           "one-cycle over the first 40% of the epochs, another over the rest), cosine or constant.",
           "twocycle for a regression on the ~6000-step budget (no --epochs; not a small table), else onecycle", choices=SCHEDULES, metavar="NAME"),
    Option("settle", "train", "float", "Validation R² at which a twocycle fit ends after its first cycle (0: never); "
           "each output must reach it.", "0.99995 with twocycle (regression, mse loss), else 0", metavar="R2"),
    Option("extend", "train", "int", "Cycles a twocycle fit may add at its end while its validation R² still rises "
           "by 0.001 a cycle (below --settle's R²); none begins after 60 s of training (0: never).",
           "5 with twocycle when the epochs are chosen here, else 0", metavar="N"),
    Option("weight_decay", "train", "float", "The optimizer's weight decay: λ·w added to every parameter's gradient (torch's weight_decay); "
           "0 for none. --alpha is scikit-learn's penalty in the loss instead.",
           "0.001 for a few measured columns up to 10000 rows, else 0; adamw 0.0001 (decoupled)", metavar="X"),
    Option("patience", "train", "int", "Stop after N epochs without validation improvement.",
           "a fifth of the epochs, at least 10; tables all of them (the best epoch is kept); a few "
           "measured columns up to 10000 rows 20", limit=1_000_000, metavar="N"),
    Option("scale", "data", "off", "Do not standardize inputs and targets (the tutorials' naive setup).",
           flag="--no-scale"),
    Option("seed", "train", "int", "Fixes sampling, split, init and shuffling.", metavar="N"),
    Option("device", "train", "choice", "Where to train.", choices=DEVICES, metavar="NAME"),
    Option("threads", "train", "int", "CPU threads.", "1 for small models, 2 for large work (wide nets, ensembles); "
           "pass 1 on a busy machine", limit=1024, metavar="N"),
    Option("engine", "train", "choice", "Which engine trains: torch, or numpy (hand-written backprop, no torch); "
           "auto: numpy on the CPU, torch for a GPU, L-BFGS and large ensembles (config.json records the "
           "choice).", choices=ENGINES, metavar="NAME"),
    Option("out", "run", "text", "Run folder.", "runs/<name>-<time>", metavar="DIR"),
    Option("force", "run", "flag", "Write into an existing run folder that mlpfit made."),
    Option("plots", "run", "off", "Skip the PNG plots and report.html (mlpfit report RUN makes them later).",
           flag="--no-plots"),
)
BY_KEY = {option.key: option for option in OPTIONS}


