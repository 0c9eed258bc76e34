"""Turning every ``None`` in a config into a concrete choice, from the data's size and kind.

These are the defaults that make the classic tutorials work on the first try; each rule says why.
The resolved config is what the run folder records, so a run can be repeated exactly.
"""

from __future__ import annotations

import math

from mlpfit.errors import UsageError
from mlpfit.network.sizes import count_parameters, layer_sizes

# Peak learning rates that work without tuning on standardized data (diagnose's hints never go above them).
DEFAULT_LR = {"adam": 1e-2, "adamw": 1e-2, "radam": 1e-2, "rmsprop": 1e-2, "sgd": 0.1, "lbfgs": 1.0}

# What --engine auto trains with on a CPU: the NumPy engine for every optimizer it implements, images
# included (no torch import: 1.5-2 s saved per process). Its flat float32 steps are 3-4x faster than
# torch's on small nets, 2x on Fashion-MNIST's 784-128-64-10 (1.5 against 2.6-3.2 ms a step at batch
# 256, one thread) and even at 784-512-256-10 (3.8 s against 3.8-3.9 s for two epochs, two threads).
# torch trains L-BFGS, GPU fits, and ensembles whose work is large enough for torch's threaded products
# (TWO_THREADS_FROM); smaller ensembles train on the NumPy engine, all members in one product per layer.
# benchmarks/small_fits.py and benchmarks/mnist.py measure both.
LEAN_OPTIMIZERS = ("adam", "adamw", "radam", "rmsprop", "sgd")  # what engines/flat_optim.py implements (tested)
DEFAULT_SAMPLES = 10_000  # enough points that a 64x64 net fits smooth 1-3 input functions to R² ≥ 0.999
DEFAULT_HIDDEN = [64, 64]  # two layers: enough for smooth functions, small enough to train in seconds
DEFAULT_ACTIVATION = "tanh"  # smooth: smooth targets fit far better than with relu's kinks
TARGET_STEPS = 6_000  # optimizer steps that reach R² ≥ 0.999 on smooth functions with one-cycle Adam
# ... spent as two cycles (train.schedules.twocycle): a fit whose validation R² reached SETTLE_R2 after the
# first (40% of the steps) ends there, the rest get the second. On benchmarks/budget.py's ten smooth
# functions the easy ones settle in about a third of one long cycle's training time at test R² ≥ 0.99995;
# the hard ones (x·y·z, sin(3x)cos(2y): at most 0.99991 after the first cycle) train on and end where one
# long cycle does. 0.99995 leaves the settled ones above the R² ≥ 0.9999 that smooth fits promise.
SETTLE_R2 = 0.99995
# A twocycle fit still gaining at its end trains on (train.callbacks.TrainOn, --extend): one more cycle (60% of
# the steps) at a time while the validation R² rose by at least TRAIN_ON_GAIN over the last cycle and is below
# SETTLE_R2, at most TRAIN_ON_CYCLES more (4.0x the steps in all), and none begun after TRAIN_ON_SECONDS of
# training: sin(40x) on -1:1, at test R² 0.79 after the base budget, trains on to 0.999+. A fit that gains less than TRAIN_ON_GAIN in a cycle is close to what more steps give (x·y·z, sin(3x)cos(2y)
# gain 1e-4 in their second cycle): it ends with its budget, as before.
TRAIN_ON_CYCLES = 5
TRAIN_ON_GAIN = 1e-3
TRAIN_ON_SECONDS = 60.0
MAX_AUTO_EPOCHS = 3_000  # tiny full-batch data: a step is cheap, but stop somewhere
FULL_BATCH_UP_TO = 512  # below this, one batch is the whole set: no noise, no Python work per batch
DEFAULT_BATCH = 256  # larger sets: minibatches reach a given error in less time than full batch


def resolve_data_defaults(data) -> None:
    """Defaults needed before the data exist (how many points to sample)."""
    if data.samples is None:
        data.samples = DEFAULT_SAMPLES


# Images: a wide ReLU net with dropout, Adam at 2e-3 with the one-cycle schedule, minibatches of 256.
# On Fashion-MNIST, 784-512-256-10 for 30 epochs reaches test accuracy 0.904; 256-128 for 20 epochs
# stops at 0.897, and 1024-512 for 40 epochs gains 0.001 for three times the training time.
IMAGE_HIDDEN = [512, 256]
IMAGE_ACTIVATION = "relu"
IMAGE_LR = 2e-3
IMAGE_EPOCHS = 30  # at least this many passes; small sets (digits) get more, up to IMAGE_STEPS steps
IMAGE_STEPS = 1_500  # 1,437 digits in batches of 256 need ~250 epochs to settle
IMAGE_DROPOUT = 0.2  # a wide net memorizes 60,000 images in a few epochs; dropout holds that off


# Measured tables (a CSV, no formula behind it) of up to this many training rows are small and noisy:
# the net memorizes the noise within tens of epochs at full learning rate (diabetes: validation loss
# lowest at epoch 29, training loss 0.003 and validation loss 2.06 by epoch 600 with the formula rules).
# These rules serve a few measured quantities of a smooth law and the estimators' arrays; tables as people
# keep them get the table recipe below.
SMALL_TABLE_ROWS = 10_000
SMALL_TABLE_EPOCHS = 300  # validation turns within ~30-100 epochs on diabetes, breast cancer, iris, wine, digits
SMALL_TABLE_PATIENCE = 20  # ... and once turned it does not come back: waiting 600 epochs only costs time
# An L2 penalty that holds off memorizing the noise: on the five tables 1e-3 gave iris 0.978 (0.956
# without), wine the same score in a third of the epochs, the rest unchanged; 1e-2 underfit diabetes.
SMALL_TABLE_WEIGHT_DECAY = 1e-3
# benchmarks/tables.py, 3 seeds: these rules against the formula rules (3,000 or 1,000 epochs, patience a
# fifth) give diabetes R² 0.482 against 0.473 in 51 epochs against 643, digits 0.961 against 0.954 in 81
# against 314, and iris 0.978.

# Tables as people keep them (text or date columns, or more than a few numbers: data.sources.encoding's
# ``tabular``), of any size. What fits smooth formulas underfits them (64x64 tanh with an L2 penalty:
# concrete's training R² 0.92), so they get RealMLP's recipe (Holzmüller et al. 2024) as far as it measured
# well here: numbers squashed around their medians (by the encoding), a wider ReLU net with dropout, no
# weight decay, and a budget that runs the one-cycle schedule to its end and keeps the best epoch rather than
# stopping early (stopping cut the schedule before it annealed). benchmarks/real_tables.py measures them
# against scikit-learn's HistGradientBoosting; benchmarks/README.md has the figures.
TABLE_HIDDEN = [128, 128]  # 256x256 scored the same on the six tables in twice the time
TABLE_ACTIVATION = "relu"  # sharp effects fit; the squashed inputs keep its linear tails from extrapolating far
TABLE_DROPOUT = 0.15  # holds off memorizing the noise (concrete: test R² 0.90 against 0.87 without)
TABLE_WEIGHT_DECAY = 0.0  # dropout does its job; the L2 penalty on top underfit
TABLE_STEPS = 1_500  # optimizer steps of the budget ...
TABLE_EPOCHS = (100, 300)  # ... within these epochs: small tables see each row often, large ones at least 100 times
# ... but a large table's fewest epochs stop at this many steps (never below the budget's own steps): 100 epochs
# of letters (16,000 rows) were 5,100 steps, and of a 100,000-row table would be 40,000. letters, 5 splits:
# accuracy 0.9721 in 100 epochs, 0.9712 in 70 (3,570 steps) for 0.9 s less, 0.9693 in 50.
TABLE_MOST_STEPS = 3_500
# A table of this many training rows or more trains a wider first layer, whose fewest epochs stop sooner: letters
# (12,800 training rows, 16 inputs, 26 classes), five splits in-process: 128x128 for 3,500 steps 0.9708 in 2.9 s
# a fit; 256x128 0.9740 for 3,500 steps (4.5 s), 0.9741 for 2,500 (3.4 s), 0.9726 for 2,000; 192x96 0.9710;
# 256x256 0.9765 in 7.7 s and three layers of 256 0.9784 in five times the time, over a table's time beside
# gradient boosting (benchmarks/real_tables.py).
TABLE_WIDE_FROM = 10_000
TABLE_WIDE_HIDDEN = [256, 128]
TABLE_WIDE_MOST_STEPS = 2_500
# A smaller table's classes give every input 8 hidden units of its own ahead of two shared layers of 64 (the first
# layer block-diagonal: engines.blocks): a unit of one input can learn its threshold (mlc_churn's service calls,
# its international plan's minutes) before the shared layers mix the inputs, as numeric embeddings do (Gorishniy
# et al. 2022). benchmarks/real_tables.py, against 128x128: mlc_churn 0.9406 to 0.9600 (every split up),
# credit_data 0.7886 to 0.7870, their fit processes 2.5 to 2.9 s and 2.8 to 3.1 s. In-process: 16 units each
# 0.9600 and 0.7888 in about twice the time; 4 units 0.9398; units for the number inputs alone 0.9484. letters
# (0.9703 with 16 against its wider net's 0.9741) and the regressions (concrete +0.001, sacramento -0.010) keep
# their nets.
TABLE_INPUT_UNITS = 8
TABLE_UNITS_HIDDEN = [64, 64]  # the shared layers after the inputs' own units
# ... for tables of at most this many inputs: the first layer is computed dense (inputs² x units products), and
# digits' 64 pixels took 3.7 s a fit against 1.5 (accuracy 0.963 against 0.959); breast_cancer's 30 measured
# columns scored 0.965 against 0.982 over three splits of 57 test rows (a row each), wine 1.000 either way.
TABLE_INPUT_UNITS_UP_TO = 32
TABLE_BATCH = 256  # minibatches for small tables too (full batch is for noiseless formulas)
# A table's regression trains an ensemble whose members each hold out their own validation rows
# (data.dataset.own_validation), for about the steps of one net: a single net's prediction of a noisy target
# varies with its rows and its start, and the mean of members that saw different rows varies less. Classes
# gained nothing from members (mlc_churn, 5 splits: 0.936 with 3 against 0.938 alone) and keep one net.
TABLE_MEMBERS = 3
# ... and a table of fewer training rows than this trains five narrower ones: its members' predictions vary most,
# and its rows support less width. Five splits, three fit seeds, against three of 128x128: five of 64x64
# sacramento (~600 training rows) R² +0.006, +0.008, +0.007, concrete -0.002, -0.003, +0.002, in about three
# quarters of the time; five of 128x128 +0.008 / +0.001 on average in 1.8 times the time; eight of 64x64 (two
# seeds) +0.011 / -0.001 in 1.3 times. ames (~1,900 rows): five of 128x128 +0.0015 in three times the time.
TABLE_FEW_ROWS = 1_000
TABLE_FEW_ROWS_MEMBERS = 5
TABLE_FEW_ROWS_HIDDEN = [64, 64]
TABLE_MEMBER_STEPS = 500  # each member's budget: 3 x 500 steps scored as well as 3 x 1,500 in a third of the time
TABLE_MEMBER_EPOCHS = (40, 300)  # ... within these epochs: the 100 of one net would double a large table's steps
BATCHED_OPTIMIZERS = ("adam", "adamw", "sgd")  # those with a stacked-weights version for ensemble members


def resolve(config, n_train: int, n_inputs: int, n_outputs: int, task: str, images: bool = False,
            measured: bool = False, tabular: bool = False, cuda_visible=lambda: False) -> None:
    """``measured``: rows of a CSV table with some held out (noisy measurements, not a formula or images);
    ``tabular``: such rows from a table as people keep them (the table recipe);
    ``cuda_visible()`` says whether a GPU would train (asked only for ``--engine auto --device auto``)."""
    m, t, d = config.model, config.train, config.data
    if images:
        _resolve_images(m, t, n_train)
    elif measured and tabular:
        _resolve_table(m, t, n_train, n_inputs, task)
    elif measured and n_train <= SMALL_TABLE_ROWS:
        _resolve_small_table(t)
    if m.ensemble is None:
        m.ensemble = 1
    if d.member_val is None:
        d.member_val = "own" if measured else "shared"  # sampled formulas: more rows are drawn, not held out
    if t.weight_decay is None:
        t.weight_decay = 0.0  # smooth functions from dense samples: nothing to hold off
    if m.hidden is None:
        m.hidden = list(DEFAULT_HIDDEN)
    _resolve_input_units(m, n_inputs)
    if m.activation is None:
        m.activation = DEFAULT_ACTIVATION
    if m.dropout is None:
        m.dropout = 0.0  # smooth functions from dense samples do not overfit; dropout only adds noise
    if t.loss is None:
        t.loss = "cross_entropy" if task == "classify" else "mse"
    if t.lr is None:
        t.lr = DEFAULT_LR[t.optimizer]
    if t.batch_size is None:
        t.batch_size = n_train if n_train <= FULL_BATCH_UP_TO else DEFAULT_BATCH
    budget_chosen_here = t.epochs is None  # images and small tables have theirs by now
    if t.epochs is None:
        steps_per_epoch = 1 if t.optimizer == "lbfgs" else math.ceil(n_train / min(t.batch_size, n_train))
        budget = 300 if t.optimizer == "lbfgs" else TARGET_STEPS  # each L-BFGS step does up to 20 evaluations
        t.epochs = int(min(MAX_AUTO_EPOCHS, max(10, math.ceil(budget / steps_per_epoch))))
    if t.patience is None:
        t.patience = max(10, t.epochs // 5)
    resolve_schedule(t, task, budget_chosen_here)
    work = count_parameters(layer_sizes(n_inputs, m.hidden, n_outputs)) * m.ensemble * min(t.batch_size, n_train)
    threads_chosen_here = t.threads is None
    if t.threads is None:
        t.threads = default_threads(work)
    if t.engine == "auto":
        t.engine = auto_engine(t, m.ensemble, work, cuda_visible)
    if threads_chosen_here and t.engine == "numpy" and m.ensemble > 1:
        t.threads = MEMBER_THREADS


def resolve_schedule(t, task: str, budget_chosen_here: bool) -> None:
    """twocycle, which may settle, where the steps were chosen here for a regression (SETTLE_R2 above);
    an explicit --epochs N gets N epochs of onecycle. --settle needs a twocycle mse fit to mean something."""
    if t.schedule is None:
        regression = task == "regress" and t.optimizer != "lbfgs"
        t.schedule = "twocycle" if budget_chosen_here and regression else "onecycle"
    settles = t.schedule == "twocycle" and task == "regress" and t.loss == "mse"
    if t.settle is None:
        t.settle = SETTLE_R2 if settles else 0.0
    elif t.settle > 0 and not settles:
        raise UsageError(f"--settle {t.settle:g} needs a twocycle regression with the mse loss (it ends one after its "
                         f"first cycle); this fit has task {task}, --schedule {t.schedule}, --loss {t.loss}: drop --settle")
    if t.extend is None:
        t.extend = TRAIN_ON_CYCLES if settles and budget_chosen_here else 0
    elif t.extend > 0 and not settles:
        raise UsageError(f"--extend {t.extend} needs a twocycle regression with the mse loss (it adds cycles while the "
                         f"validation R² still rises); this fit has task {task}, --schedule {t.schedule}, --loss {t.loss}: "
                         "drop --extend")


def auto_engine(t, members: int, work: float, cuda_visible) -> str:
    """numpy for a CPU fit it covers, else torch (see LEAN_OPTIMIZERS above)."""
    lean = t.optimizer in LEAN_OPTIMIZERS and (members == 1 or work < ENSEMBLES_ON_TORCH_FROM)
    on_cpu = t.device == "cpu" or (t.device == "auto" and not cuda_visible())
    return "numpy" if lean and on_cpu else "torch"


# Work per step (parameters x batch rows) from which a second thread pays for its overhead.
# On 2 idle cores: 784-512-256-10 at batch 256 (1.4e8) and a 32-member 2-32-32-1
# ensemble on 1,600 rows (6e7, 3.2x faster than 32 single fits with 2 threads, 2.1x with 1) gain,
# and so does 784-128-64-10 at batch 256 (2.8e7: Fashion-MNIST's 10 epochs 6.1 s against 8.0 s);
# a 2-64-64-1 net at batch 256 (1.1e6) loses. Under load from other processes, 2 threads can be
# far slower than 1: pass --threads 1 on a busy machine.
TWO_THREADS_FROM = 2e7
# Ensembles of more work per step go to torch. ames' 3-member 310-128-128-1 ensemble at batch 256 (4.3e7)
# trains in 2.7 s on the NumPy engine against 5.3 s on torch (2 threads each).
ENSEMBLES_ON_TORCH_FROM = 1e8
# The NumPy engine splits an ensemble's members over this many threads (each step's products of one half
# on each core) in the epochs where that is faster than one thread: it times its epochs both ways, so a
# machine busy with other processes, where the second thread may not get a core, loses little by it
# (benchmarks/ensemble.py). NumPy threads wait without spinning, unlike torch's intra-op threads.
MEMBER_THREADS = 2


def default_threads(parameters: int, batch_rows: int = 1) -> int:
    return 1 if parameters * batch_rows < TWO_THREADS_FROM else 2


def _resolve_small_table(t) -> None:
    if t.weight_decay is None and t.optimizer not in ("lbfgs", "adamw"):  # adamw has its own decoupled decay
        t.weight_decay = SMALL_TABLE_WEIGHT_DECAY
    if t.epochs is None and t.optimizer != "lbfgs":
        t.epochs = SMALL_TABLE_EPOCHS
    if t.patience is None:
        t.patience = min(SMALL_TABLE_PATIENCE, max(10, (t.epochs or SMALL_TABLE_EPOCHS) // 5))


def _resolve_input_units(m, n_inputs: int) -> None:
    """The inputs' own units become the first hidden layer (inputs x N units), once: a resolved config that is
    resolved again (a resumed fit) has that layer already."""
    if m.input_units is None:
        m.input_units = 0
    if m.input_units and (not m.hidden or m.hidden[0] != n_inputs * m.input_units):
        m.hidden = [n_inputs * m.input_units, *m.hidden]


def _model_unless_given(m, hidden: list[int], activation: str, dropout: float) -> None:
    m.hidden = list(hidden) if m.hidden is None else m.hidden
    m.activation = activation if m.activation is None else m.activation
    m.dropout = dropout if m.dropout is None else m.dropout


def _resolve_table(m, t, n_train: int, n_inputs: int, task: str) -> None:
    large = n_train >= TABLE_WIDE_FROM
    few_inputs = n_inputs <= TABLE_INPUT_UNITS_UP_TO
    if task == "classify" and not large and few_inputs and m.hidden is None and m.input_units is None:
        m.input_units, m.hidden = TABLE_INPUT_UNITS, list(TABLE_UNITS_HIDDEN)
    few_rows = task == "regress" and n_train < TABLE_FEW_ROWS
    hidden = TABLE_WIDE_HIDDEN if large else TABLE_FEW_ROWS_HIDDEN if few_rows else TABLE_HIDDEN
    _model_unless_given(m, hidden, TABLE_ACTIVATION, TABLE_DROPOUT)
    if m.ensemble is None:
        members = TABLE_FEW_ROWS_MEMBERS if few_rows else TABLE_MEMBERS
        m.ensemble = members if task == "regress" and t.optimizer in BATCHED_OPTIMIZERS else 1
    if t.weight_decay is None and t.optimizer != "adamw":  # adamw keeps its own decoupled decay
        t.weight_decay = TABLE_WEIGHT_DECAY
    if t.batch_size is None:
        t.batch_size = min(TABLE_BATCH, n_train)
    if t.epochs is None and t.optimizer != "lbfgs":
        steps, (fewest, most) = (TABLE_STEPS, TABLE_EPOCHS) if m.ensemble == 1 else (TABLE_MEMBER_STEPS, TABLE_MEMBER_EPOCHS)
        steps_per_epoch = math.ceil(n_train / t.batch_size)
        budget_epochs = math.ceil(steps / steps_per_epoch)
        most_steps = TABLE_WIDE_MOST_STEPS if large else TABLE_MOST_STEPS
        fewest = min(fewest, max(budget_epochs, most_steps // steps_per_epoch))
        t.epochs = int(min(most, max(fewest, budget_epochs)))
    if t.patience is None and t.epochs is not None:
        t.patience = t.epochs  # the whole schedule; the best epoch's weights are kept


def _resolve_images(m, t, n_train: int) -> None:
    _model_unless_given(m, IMAGE_HIDDEN, IMAGE_ACTIVATION, IMAGE_DROPOUT)
    if t.lr is None and t.optimizer in ("adam", "adamw"):
        t.lr = IMAGE_LR
    if t.batch_size is None:
        t.batch_size = DEFAULT_BATCH
    if t.epochs is None:
        t.epochs = max(IMAGE_EPOCHS, min(300, math.ceil(IMAGE_STEPS / max(1, math.ceil(n_train / t.batch_size)))))
