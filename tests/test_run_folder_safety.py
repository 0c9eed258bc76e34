"""Issue 12: a run folder cannot be turned against the user.

--force only on a folder mlpfit made, never a file deleted that mlpfit did not write, one fit per
folder at a time, no symbolic link followed, manifest names that stay inside the folder, sizes
checked before reading, and content checked before use. Every case works inside tmp_path only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from mlpfit.cli import main as cli
from mlpfit.config.schema import (
    DataConfig,
    FitConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
)
from mlpfit.errors import RunFolderError, UsageError
from mlpfit.fitting.fit import fit
from mlpfit.runfolder import checkpoint, claim, store


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as done:
        cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def fit_args(out, *extra):
    return ["fit", "x + y", "--samples", "200", "--epochs", "2", "--out", str(out), "-q", *extra]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (links not followed) with its bytes."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p)
                                         if p.is_symlink() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("safety") / "run"
    fit(FitConfig(data=DataConfig(target="x + y", samples=200), train=TrainConfig(epochs=2),
                  run=RunConfig(out=str(out), quiet=True)))
    return out


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("safety") / "ensemble"
    fit(FitConfig(data=DataConfig(target="x + y", samples=200), model=ModelConfig(hidden=[8], ensemble=2),
                  train=TrainConfig(epochs=2), run=RunConfig(out=str(out), quiet=True, plots=False)))
    return out


def copy_run(run: Path, tmp_path: Path, name="copy") -> Path:
    target = tmp_path / name
    shutil.copytree(run, target, symlinks=True)
    return target


def resign(run: Path) -> None:
    """Recompute manifest.json over the files it lists: tampering that passes every checksum."""
    manifest = json.loads((run / "manifest.json").read_text())
    for key in ("sha256", "derived"):
        for name in manifest.get(key) or {}:
            full = os.path.join(run, name)
            if os.path.isfile(full):
                manifest[key][name] = hashlib.sha256(Path(full).read_bytes()).hexdigest()
    manifest["self"] = store.manifest_digest(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))


def edit_json(run: Path, name: str, change) -> None:
    content = json.loads((run / name).read_text())
    changed = change(content)  # edits in place return None; others return the new content
    content = content if changed is None else changed
    (run / name).write_text(json.dumps(content))
    resign(run)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "this is a bug" not in err, err
    return lines[0]


# ---------------------------------------------------------------- 2. --force only on a folder mlpfit made


def users_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "checkpoint").mkdir(parents=True)
    (folder / "checkpoint" / "epoch_100.pt").write_bytes(b"weights of a week of training")
    (folder / "config.json").write_text('{"my": "settings"}')
    (folder / "report.html").write_text("<p>my report</p>")
    (folder / "notes.txt").write_text("notes")
    return folder


def test_force_refuses_a_folder_mlpfit_did_not_make_and_touches_nothing(tmp_path, capsys):
    folder = users_folder(tmp_path)
    before = snapshot(folder)
    code, _, err = run_cli(capsys, *fit_args(folder, "--force"))
    line = one_line(err)
    assert code == 2 and str(folder) in line and "not a folder mlpfit made" in line and "choose another --out" in line
    assert snapshot(folder) == before


def test_force_on_a_run_folder_keeps_the_users_own_files(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    (run / "notes.txt").write_text("mine")
    (run / "checkpoint").mkdir()
    (run / "checkpoint" / "epoch_100.pt").write_bytes(b"mine too")
    (run / "old-plot.png").write_bytes(b"a plot the previous run drew")
    store.register_derived(str(run), ["old-plot.png", "loss.png"])  # the previous run's manifest lists it
    code, _, err = run_cli(capsys, *fit_args(run, "--force", "--seed", "3"))
    assert code == 0, err
    assert (run / "notes.txt").read_text() == "mine"
    assert (run / "checkpoint" / "epoch_100.pt").read_bytes() == b"mine too"
    assert not (run / "old-plot.png").exists()  # listed by the previous manifest, not written again: removed
    assert store.read(str(run)).config["train"]["seed"] == 3


def test_a_claimed_folder_is_marked_with_its_format(tmp_path):
    claim.prepare_dir(str(tmp_path / "new"), force=False)
    assert json.loads((tmp_path / "new" / claim.MARKER).read_text())["format"] == claim.MARKER_FORMAT


# ---------------------------------------------------------------- 5. one fit per folder


@pytest.mark.parametrize("force", [False, True])
def test_a_second_fit_on_a_folder_being_written_exits_2(tmp_path, capsys, force):
    out = tmp_path / "run"
    first = claim.claim(str(out))  # the first fit holds the folder (its own open file, as another process would)
    try:
        code, _, err = run_cli(capsys, *fit_args(out, *(["--force"] if force else [])))
        assert code == 2 and "being written by another mlpfit fit" in one_line(err)
        assert sorted(p.name for p in out.iterdir()) == [claim.MARKER]
        with pytest.raises(UsageError, match="another mlpfit fit"):
            claim.claim(str(out), force=True)
    finally:
        first.release()
    code, _, err = run_cli(capsys, *fit_args(out, "--force"))  # released: the folder is free again
    assert code == 0, err


# ---------------------------------------------------------------- 7/8. --out values that cannot work


@pytest.mark.parametrize("make", ["empty", "under_file", "proc", "dangling", "link_to_folder"])
def test_out_paths_that_cannot_work_exit_2_in_one_line(tmp_path, capsys, make, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile.txt").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    out = {"empty": "", "under_file": "afile.txt/run", "proc": "/proc/mlpfit-test/x", "dangling": "dangling",
           "link_to_folder": "linked"}[make]
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    os.symlink(tmp_path / "elsewhere", tmp_path / "linked")
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, *fit_args(out))
    assert code == 2 and "--out" in one_line(err)
    assert snapshot(tmp_path) == before  # nothing made: not runs/, not the link's target
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- 3. symbolic links


def test_resume_refuses_a_checkpoint_folder_that_is_a_link_and_deletes_nothing(tmp_path, capsys, good_run):
    victim_run = tmp_path / "other"
    checkpoint.save(str(victim_run), {"config": {}, "step": 1})
    victim = victim_run / "checkpoint"
    (victim / "precious.txt").write_text("do not delete")
    run = copy_run(good_run, tmp_path)
    (run / "manifest.json").unlink()  # looks interrupted
    os.symlink(victim, run / "checkpoint")
    before = snapshot(victim)
    code, _, err = run_cli(capsys, "fit", "--resume", run)
    assert code == 2 and "symbolic link" in one_line(err)
    checkpoint.discard(str(run))
    with pytest.raises(RunFolderError, match="symbolic link"):
        checkpoint.save(str(run), {"step": 2})
    assert snapshot(victim) == before


def test_a_run_file_that_links_out_of_the_folder_is_refused(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    outside = tmp_path / "outside-config.json"
    shutil.move(run / "config.json", outside)
    os.symlink(outside, run / "config.json")  # same bytes, so the checksum would match
    code, _, err = run_cli(capsys, "predict", run, "1", "2")
    assert code == 2 and "symbolic link" in one_line(err)


# ---------------------------------------------------------------- 4. manifest names and sizes


@pytest.mark.parametrize("key", ["sha256", "derived"])
@pytest.mark.parametrize("name", ["../victim.txt", "/etc/hostname", "sub/model.safetensors", ".hidden"])
def test_manifest_names_outside_the_folder_are_refused(tmp_path, capsys, good_run, key, name):
    run = copy_run(good_run, tmp_path)
    (tmp_path / "victim.txt").write_text("secret")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.setdefault(key, {})[name] = hashlib.sha256(b"secret").hexdigest()
    manifest["self"] = store.manifest_digest(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run_cli(capsys, "predict", run, "1", "2")
    assert code == 2 and "not a plain file name" in one_line(err)


def test_a_refused_name_says_nothing_about_whether_an_outside_file_exists(tmp_path, good_run):
    messages = []
    for exists in (False, True):  # the victim is made for the second round only
        run = copy_run(good_run, tmp_path, f"copy-{exists}")
        if exists:
            (tmp_path / "victim.txt").write_text("secret")
        assert (tmp_path / "victim.txt").exists() == exists
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["derived"] = {"../victim.txt": "0" * 64}
        manifest["self"] = store.manifest_digest(manifest)
        (run / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(RunFolderError) as err:
            store.read(str(run))
        messages.append(str(err.value).replace(f"copy-{exists}", "copy"))
    assert messages[0] == messages[1]


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    with open(run / "model.safetensors", "r+b") as handle:
        handle.truncate(100 * 2**30)  # 100 GB, sparse: no disk used, but reading it would be a MemoryError
    code, _, err = run_cli(capsys, "predict", run, "1", "2")
    assert code == 2 and "model.safetensors" in one_line(err) and "bytes" in err


@pytest.mark.parametrize("name", ["summary.json", "manifest.json"])
def test_a_fifo_in_a_run_folder_is_refused_without_waiting(tmp_path, capsys, good_run, name):
    run = copy_run(good_run, tmp_path)
    (run / name).unlink()
    os.mkfifo(run / name)
    signal.alarm(60)  # a hang would otherwise stall the suite; the refusal takes milliseconds
    try:
        code, _, err = run_cli(capsys, "predict", run, "1", "2")
    finally:
        signal.alarm(0)
    assert code == 2 and "not a regular file" in one_line(err)


# ---------------------------------------------------------------- 7/8. content checked before use


CONTENT_EDITS = {
    "config_is_a_list": ("config.json", lambda c: []),
    "config_unknown_section": ("config.json", lambda c: {**c, "shell": {"cmd": "rm -rf"}}),
    "negative_size": ("summary.json", lambda s: s["architecture"].update(sizes=[2, -64, 1])),
    "huge_size": ("summary.json", lambda s: s["architecture"].update(sizes=[2, 2**40, 1])),
    "size_is_text": ("summary.json", lambda s: s["architecture"].update(sizes=[2, "64", 64, 1])),
    "summary_is_a_list": ("summary.json", lambda s: [s]),
    "three_means_for_two_inputs": ("scalers.json", lambda s: s["x"].update(mean=[0.0, 0.0, 0.0])),
    "zero_std": ("scalers.json", lambda s: s["x"].update(std=[0.0, 1.0])),
    "nan_mean": ("scalers.json", lambda s: s["y"].update(mean=[float("nan")])),
    "scaler_missing": ("scalers.json", lambda s: {"y": s["y"]}),
    "input_names_missing": ("summary.json", lambda s: s.update(inputs=["x"])),
    "task_unknown": ("summary.json", lambda s: s.update(task="predict the future")),
    "members_on_a_single_model": ("summary.json", lambda s: s.update(ensemble=True, members=[{"seed": 0}] * 100000)),
}


@pytest.mark.parametrize("edit", sorted(CONTENT_EDITS))
@pytest.mark.parametrize("command", ["predict", "explain", "report"])
def test_edited_content_is_one_line_exit_2_in_every_command(tmp_path, capsys, good_run, edit, command):
    run = copy_run(good_run, tmp_path)
    name, change = CONTENT_EDITS[edit]
    edit_json(run, name, change)
    args = [command, run, "1", "2"] if command == "predict" else [command, run]
    code, out, err = run_cli(capsys, *args)
    assert (code, out) == (2, ""), err
    assert str(run) in one_line(err)


def test_zero_std_no_longer_gives_nan_in_json(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    edit_json(run, "scalers.json", lambda s: s["y"].update(std=[0.0]))
    code, out, err = run_cli(capsys, "predict", run, "1", "2", "--json")
    assert code == 2 and "NaN" not in out and "std" in one_line(err)


@pytest.mark.parametrize("members", [[{"seed": 0}] * 3, [{"seed": 0}] * 5000, [{"seed": "a"}, {"seed": 1}]])
def test_ensemble_members_must_match_the_weights(tmp_path, capsys, ensemble_run, members):
    run = copy_run(ensemble_run, tmp_path)
    edit_json(run, "summary.json", lambda s: s.update(members=members))
    code, _, err = run_cli(capsys, "predict", run, "1", "2")
    assert code == 2 and "members" in one_line(err)


@pytest.mark.parametrize("diagnostics", [5, [{"code": 1}], ["text"]])
@pytest.mark.parametrize("command", ["explain", "report"])
def test_odd_diagnostics_do_not_crash_explain_or_report(tmp_path, capsys, good_run, diagnostics, command):
    run = copy_run(good_run, tmp_path)
    edit_json(run, "summary.json", lambda s: s.update(diagnostics=diagnostics, metrics="not a table"))
    code, _, err = run_cli(capsys, command, run)
    assert code in (0, 2), err
    if code == 2:
        one_line(err)
