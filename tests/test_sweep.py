"""Sweeps: option parsing, batching by shape, grid and Optuna runs, CLI (shared studies: test_sweep_shared.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import optuna
import pytest

from mlpfit.cli.main import main
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
from mlpfit.errors import UsageError
from mlpfit.fitting.sweeping import batch
from mlpfit.fitting.sweeping import plan as search
from mlpfit.fitting.sweeping import storage as stores
from mlpfit.fitting.sweeping import trials as optuna_trials

pytestmark = pytest.mark.usefixtures("one_thread")


def base_config(**train) -> FitConfig:
    return FitConfig(DataConfig(target="x**2 + y**2", domain=(-2.0, 2.0), samples=400),
                     ModelConfig(hidden=[8]), TrainConfig(**{"epochs": 30, **train}))


# ---------------------------------------------------------------- parsing


def test_grid_is_the_cartesian_product():
    settings = search.parse_grid("lr=1e-3,3e-3,1e-2 hidden=32x2,64-32")
    assert len(settings) == 6
    assert settings[0] == {"lr": 1e-3, "hidden": [32, 32]}
    assert settings[-1] == {"lr": 1e-2, "hidden": [64, 32]}
    assert search.parse_grid("batch-size=32 activation=silu") == [{"batch_size": 32, "activation": "silu"}]


@pytest.mark.parametrize("text, words", [
    ("depth=3", "depth"),
    ("lr=fast", "'fast'"),
    ("lr", "KEY=V1,V2"),
    ("activation=tahn", "tanh"),
    ("hidden=32,,", "32x2"),
    ("lr=-1", "got -1"),
])
def test_bad_grid_names_the_value(text, words):
    with pytest.raises(UsageError, match=None) as err:
        search.parse_grid(text)
    assert words in str(err.value)


def test_space_overrides_defaults_and_refuses_nonsense():
    space = search.parse_space("lr=1e-3:1e-2 width=32,64 activation=tanh")
    assert space["lr"] == (1e-3, 1e-2) and space["width"] == [32, 64] and space["activation"] == ["tanh"]
    assert space["depth"] == search.DEFAULT_SPACE["depth"]
    with pytest.raises(UsageError, match="LO:HI"):
        search.parse_space("lr=1e-2:1e-3")
    with pytest.raises(UsageError, match="KEY"):
        search.parse_space("momentum=0.9")


def test_plan_needs_exactly_one_of_grid_and_trials():
    with pytest.raises(UsageError, match="either"):
        search.make_plan("lr=1e-3", 5, None, None, None)
    with pytest.raises(UsageError, match="either"):
        search.make_plan(None, None, None, None, None)
    with pytest.raises(UsageError, match="--storage"):
        search.make_plan("lr=1e-3", None, None, "x.journal", None)
    assert search.make_plan(None, 3, None, None, None).study == search.DEFAULT_STUDY


def test_storage_kinds(tmp_path):
    assert stores.open_storage(None) is None
    database = stores.open_storage(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(database, optuna.storages.RDBStorage)
    assert database.get_heartbeat_interval() == stores.DEFAULT_HEARTBEAT[0]  # a killed worker's trial is retried
    assert isinstance(stores.open_storage(str(tmp_path / "s.journal")), optuna.storages.JournalStorage)
    with pytest.raises(UsageError, match="does not exist"):
        stores.open_storage(str(tmp_path / "missing" / "s.journal"))


# ---------------------------------------------------------------- batching and training


def test_settings_differing_in_lr_or_seed_share_a_batch():
    shared = batch.load_shared(base_config())
    a, b, c = (batch.resolved(shared, s) for s in ({"lr": 1e-3}, {"lr": 1e-2, "seed": 3}, {"hidden": [16]}))
    assert search.group_key(a) == search.group_key(b) != search.group_key(c)


def test_grid_rows_follow_the_settings_and_batch_by_shape():
    shared = batch.load_shared(base_config())
    settings = search.parse_grid("lr=1e-3,1e-2 hidden=8,4x2")
    rows = batch.run_grid(shared, settings)
    assert [r["hidden"] for r in rows] == ["8x1", "4x2", "8x1", "4x2"]
    assert [r["lr"] for r in rows] == [1e-3, 1e-3, 1e-2, 1e-2]
    assert all(r["batched_with"] == 2 and r["state"] == "complete" for r in rows)
    # lr 1e-2 learns more in 30 epochs than 1e-3: the per-member lr really is per member.
    assert rows[2]["val_loss"] < rows[0]["val_loss"]


def test_a_batched_member_equals_the_same_setting_trained_alone():
    shared = batch.load_shared(base_config(batch_size=10_000))
    together = batch.run_grid(shared, search.parse_grid("lr=1e-3,3e-3,1e-2"))
    alone = batch.run_grid(shared, [{"lr": 3e-3}])
    assert together[1]["val_loss"] == pytest.approx(alone[0]["val_loss"], rel=1e-3)
    assert together[1]["val_loss"] != pytest.approx(together[0]["val_loss"], rel=1e-2)


def test_best_setting_ignores_diverged_and_pruned_rows():
    rows = [{"state": "diverged", "val_loss": float("nan"), "setting": '{"lr": 1}'},
            {"state": "pruned", "val_loss": 0.001, "setting": '{"lr": 2}'},
            {"state": "complete", "val_loss": 0.5, "setting": '{"lr": 3}'},
            {"state": "complete", "val_loss": 0.2, "setting": '{"lr": 4}'}]
    assert batch.best_setting(rows) == {"lr": 4}


def test_trials_in_memory_record_every_trial(tmp_path):
    shared = batch.load_shared(base_config(epochs=20))
    plan = search.make_plan(None, 5, "width=4,8 depth=1:2", None, None)
    rows, study = optuna_trials.run_trials(shared, plan)
    assert len(rows) == 5 and len(study.trials) == 5
    assert {r["state"] for r in rows} <= {"complete", "pruned", "diverged"}
    assert all(r["hidden"] in ("4x1", "8x1", "4x2", "8x2") for r in rows)
    assert study.best_trial.user_attrs["setting"]["hidden"][0] in (4, 8)


# ---------------------------------------------------------------- command line


def test_cli_grid_sweep_prints_table_writes_csv_and_best_run_predicts(tmp_path, capsys):
    out = str(tmp_path / "sw")
    with pytest.raises(SystemExit) as done:
        main(["sweep", "x**2 + y**2", "--domain", "-14:14", "--samples", "400", "--epochs", "40",
              "--grid", "lr=1e-3,3e-3,1e-2 hidden=8x2,16x2", "--out", out])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "val loss" in shown and "16x2" in shown and f"{out}/best" in shown
    rows = list(csv.DictReader(open(os.path.join(out, "sweep.csv"))))
    assert len(rows) == 6 and {r["batched_with"] for r in rows} == {"3"}
    best = min(rows, key=lambda r: float(r["val_loss"]))
    refit = json.load(open(os.path.join(out, "best", "config.json")))
    assert refit["train"]["lr"] == float(best["lr"])
    with pytest.raises(SystemExit) as done:
        main(["predict", os.path.join(out, "best"), "3", "4", "--json"])
    assert done.value.code == 0
    assert len(json.loads(capsys.readouterr().out)["predictions"][0]) == 1


def test_a_sweep_of_small_settings_trains_on_the_numpy_engine_and_never_imports_torch(tmp_path):
    """A sweep's batch is a fit: small settings get the engine a small fit gets, so torch is never imported,
    and the table and the refit of the best setting are what the command has always written."""
    out = str(tmp_path / "sw")
    code = ("import json, sys\n"
            "from mlpfit.cli.main import main\n"
            "try:\n"
            f"    main(['sweep', 'sin(3*x)', '--grid', 'lr=3e-3,1e-2 hidden=16x2', '--epochs', '30', '--out', {out!r}])\n"
            "except SystemExit as done:\n"
            "    print(json.dumps({'code': done.code, 'torch': 'torch' in sys.modules}))\n")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    outcome = json.loads(process.stdout.strip().splitlines()[-1])
    assert outcome == {"code": 0, "torch": False}, process.stderr
    rows = list(csv.DictReader(open(os.path.join(out, "sweep.csv"))))
    assert [(r["lr"], r["hidden"], r["batched_with"], r["engine"]) for r in rows] == [
        ("0.003", "16x2", "2", "numpy"), ("0.01", "16x2", "2", "numpy")]
    assert all(r["state"] == "complete" and float(r["val_score"]) > 0.5 for r in rows)
    best = min(rows, key=lambda r: float(r["val_loss"]))
    refit = json.load(open(os.path.join(out, "best", "config.json")))
    assert refit["train"]["lr"] == float(best["lr"]) and refit["train"]["engine"] == "numpy"


@pytest.mark.parametrize("args, words", [
    (["--grid", "lr=1e-3", "--trials", "3"], "either"),
    (["--grid", "speed=3"], "speed"),
    (["--trials", "3", "--optimizer", "lbfgs"], "lbfgs"),
    (["--trials", "0"], "--trials"),
    (["--grid", "lr=1e-3", "--workers", "2"], "--workers"),
    (["--trials", "3", "--workers", "0"], "--workers"),
    (["--show"], "--storage"),
])
def test_cli_sweep_bad_options_exit_2_with_one_line(args, words, capsys):
    with pytest.raises(SystemExit) as done:
        main(["sweep", "x", *args])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_cli_sweep_without_target_says_what_to_give(cli):
    result = cli("sweep", "--trials", "3")
    assert result.code == 2 and "missing TARGET" in result.err


def test_refit_best_swaps_in_a_whole_folder_and_skips_a_setting_it_holds(tmp_path):
    from mlpfit.fitting.sweeping import best

    config = base_config(epochs=5)
    target, setting = best.refit_best(config, str(tmp_path), lambda: {"lr": 1e-3})
    assert setting == {"lr": 1e-3} and json.load(open(os.path.join(target, "config.json")))["train"]["lr"] == 1e-3
    first = os.stat(target).st_ino
    best.refit_best(config, str(tmp_path), lambda: {"lr": 1e-3})
    assert os.stat(target).st_ino == first  # another worker's refit of the same setting is kept
    best.refit_best(config, str(tmp_path), lambda: {"lr": 3e-3})
    assert json.load(open(os.path.join(target, "config.json")))["train"]["lr"] == 3e-3
    assert os.path.isfile(os.path.join(target, "manifest.json"))
    assert sorted(os.listdir(tmp_path)) == [".best.lock", "best"]  # no half-built or old folder left


def test_a_sweep_trains_with_the_weight_decay_and_alpha_its_configs_record(tmp_path):
    """The batched members take the fit's own engine options: a small table's default weight decay (and an
    alpha) reach the optimizer and the loss, as the refit of the best setting trains with them."""
    path = tmp_path / "table.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "y"])
        writer.writerows([[i / 100, (i * 7 % 100) / 100, (i / 100) ** 2] for i in range(200)])
    base = FitConfig(DataConfig(target=str(path), target_columns=["y"]), ModelConfig(hidden=[8]),
                     TrainConfig(epochs=3, alpha=1e-3))
    shared = batch.load_shared(base)
    config = batch.resolved(shared, {"lr": 1e-2})
    assert config.train.weight_decay > 0  # the small-table default
    _, trainer = batch.train_group(shared, [config])
    engine = trainer.engine  # the NumPy engine, as a fit of this size gets
    assert engine.weight_decay == config.train.weight_decay and engine.alpha == 1e-3


def test_a_dead_workers_trial_counts_through_its_retry_even_with_its_row_recorded():
    """A worker killed after recording its row but before telling left a FAIL trial with a row and a queued
    retry; counting both filled the study, so no worker asked for the retry and the last one waited forever."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study()
    dead = study.ask()
    dead.set_user_attr("row", {"val_loss": 1.0})
    study.tell(dead, state=optuna.trial.TrialState.FAIL)
    assert optuna_trials.filled(study) == 1  # a worker's own FAIL (diverged) with its row counts
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING,
                                              system_attrs={"failed_trial": dead.number},
                                              user_attrs={"row": {"val_loss": 1.0}}))
    assert optuna_trials.filled(study) == 1  # the heartbeat failed it and queued a retry: the retry counts
    assert study.ask().number == 1 and optuna_trials.filled(study) == 1  # asking picks the retry up


class NoHeartbeat:
    enabled = False

    def watch(self, trial):
        pass


def test_a_retry_queued_after_the_study_filled_is_still_asked_for():
    """Was: a worker killed with two trials running; the first one's retry ran, a new trial was asked while
    the second still ran, then the second's retry was queued into a full study: nobody asked for it and
    the last worker waited on it forever (a clean-clone CI run hung in the killed-worker test)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study()
    for _ in range(3):
        done = study.ask()
        study.tell(done, 1.0)
    dead = study.ask()
    study.tell(dead, state=optuna.trial.TrialState.FAIL)
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING,
                                              system_attrs={"failed_trial": dead.number}))
    assert optuna_trials.filled(study) == 4  # three done and the queued retry: the study of 4 is full ...
    asked = optuna_trials.ask_batch(study, 4, NoHeartbeat(), shared=True)
    assert [t.number for t in asked] == [4]  # ... and the retry is asked for all the same
    assert optuna_trials.ask_batch(study, 4, NoHeartbeat(), shared=True) == []  # and nothing new after it


def journal_study_holding(path: str, done: int):
    """A journal study that already holds `done` finished trials and one dead worker's trial, failed and
    queued again (what the heartbeat leaves on a database storage)."""
    storage = stores.open_storage(path)
    study = optuna.create_study(study_name="joined", storage=storage, direction="minimize")
    for _ in range(done):
        trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
        study.tell(trial, 1.0)
    dead = study.ask()
    study.tell(dead, state=optuna.trial.TrialState.FAIL)
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING,
                                              system_attrs={"failed_trial": dead.number}))
    return study


def test_a_queued_retry_is_asked_for_whatever_the_total(tmp_path):
    """Was: a worker with --trials 2 joining a study that held more computed a negative batch and asked
    nothing, while the retry it should have taken kept the study 'running' (it then waited forever)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = journal_study_holding(str(tmp_path / "s.journal"), done=10)
    asked = optuna_trials.ask_batch(study, 2, NoHeartbeat(), shared=True)
    assert [t.number for t in asked] == [11] and optuna_trials.queued(study) == []  # the retry of trial 10
    assert optuna_trials.ask_batch(study, 2, NoHeartbeat(), shared=True) == []  # nothing new: the study is over 2


def test_a_worker_joining_a_fuller_journal_study_trains_the_retry_and_ends(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path = str(tmp_path / "s.journal")
    journal_study_holding(path, done=5)
    shared = batch.load_shared(base_config(epochs=10))
    plan = search.make_plan(None, 2, "width=4 depth=1", path, "joined")
    rows, study = optuna_trials.run_trials(shared, plan)
    assert [r["trial"] for r in rows] == [6]  # the retry of trial 5, and nothing new
    retry = study.trials[6]
    assert retry.system_attrs["failed_trial"] == 5 and retry.state != optuna.trial.TrialState.WAITING


def test_a_worker_ends_when_its_total_is_finished_even_while_others_run(tmp_path, monkeypatch):
    """A live worker's running trial (a fresh heartbeat) does not hold up a worker whose total is already
    finished: it has nothing it could do. Was: it waited until that trial went stale, then forever."""
    import threading

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    monkeypatch.setenv(stores.HEARTBEAT_ENV, "1:300")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = stores.open_storage(url)
    study = optuna.create_study(study_name="busy", storage=storage, direction="minimize")
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, 1.0)
    other = study.ask()  # another worker's, still training
    storage.record_heartbeat(other._trial_id)
    shared = batch.load_shared(base_config(epochs=10))
    plan = search.make_plan(None, 2, "width=4 depth=1", url, "busy")
    done = []
    worker = threading.Thread(target=lambda: done.append(optuna_trials.run_trials(shared, plan)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done and done[0][0] == []  # it ended, having asked nothing


def test_an_interrupted_grid_keeps_the_groups_already_trained(tmp_path, monkeypatch):
    """Ctrl-C during the second group: the first group's rows are written, and the stop still ends the sweep."""
    from mlpfit.fitting.sweeping import run as sweep_run
    from mlpfit.interrupt import Interrupted

    def interrupted_grid(shared, settings, progress, on_group):
        on_group([{"lr": 1e-3, "val_loss": 0.5}])
        raise Interrupted("interrupted by SIGINT at epoch 3 of 40, step 0; nothing saved (no run folder)")

    monkeypatch.setattr(sweep_run, "run_grid", interrupted_grid)
    path = str(tmp_path / "sweep.csv")
    with pytest.raises(Interrupted, match="1 setting"):
        sweep_run.grid_keeping_rows(None, [{}, {}], lambda text: None, path)
    assert list(csv.DictReader(open(path))) == [{"lr": "0.001", "val_loss": "0.5"}]


def test_sweep_settings_train_their_budget_and_no_more():
    """A setting that trained on (--extend) would be compared with the others on more steps than they had."""
    shared = batch.load_shared(FitConfig(DataConfig(target="x**2 + y**2", domain=(-2.0, 2.0), samples=400),
                                         ModelConfig(hidden=[8]), TrainConfig()))
    assert batch.resolved(shared, {"lr": 1e-2}).train.extend == 0
    given = FitConfig(DataConfig(target="x**2 + y**2", domain=(-2.0, 2.0), samples=400), ModelConfig(hidden=[8]),
                      TrainConfig(extend=2))
    assert batch.resolved(batch.load_shared(given), {"lr": 1e-2}).train.extend == 2  # asked for: kept
