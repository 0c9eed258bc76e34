"""The run folder: no overwrite without --force, crash-safe saves, damaged files refused, no unpickling."""

import json
import os
import shutil
import tempfile
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.cli import main as cli
from mlpfit.fitting.fit import fit
from mlpfit.runfolder.run import load
from mlpfit.runfolder import store as runs
from mlpfit.config.schema import DataConfig, FitConfig, RunConfig, TrainConfig
from mlpfit.errors import RunFolderError

SRC = Path(__file__).resolve().parents[1] / "src"


def small_fit(out, seed=0, force=False):
    config = FitConfig(data=DataConfig(target="x + y", samples=200), train=TrainConfig(epochs=3, seed=seed),
                       run=RunConfig(out=str(out), quiet=True, force=force))
    return fit(config)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "run"
    small_fit(out)
    return out


def run_cli(capsys, *args):
    """``mlpfit ARGS`` in this process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        cli.main(list(args))
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def copy_run(run, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(run, target)
    return target


# ---------------------------------------------------------------- no overwrite without --force


def test_an_existing_run_folder_is_not_overwritten_without_force(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    code, _, err = run_cli(capsys, "fit", "x + y", "--samples", "200", "--epochs", "3", "--seed", "1", "--out", str(run), "-q")
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_force_writes_over_it(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    old = (run / "model.safetensors").read_bytes()
    code, _, err = run_cli(capsys, "fit", "x + y", "--samples", "200", "--epochs", "3", "--seed", "1", "--out", str(run), "-q", "--force")
    assert code == 0, err
    assert (run / "model.safetensors").read_bytes() != old and runs.read(str(run)).config["train"]["seed"] == 1


def test_a_folder_with_an_interrupted_fit_points_to_resume(tmp_path, capsys):
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "manifest.json").write_text("{}")
    code, _, err = run_cli(capsys, "fit", "x + y", "--out", str(tmp_path), "-q")
    assert code == 2 and f"mlpfit fit --resume {tmp_path}" in err and "--force" in err


# ---------------------------------------------------------------- a crash mid-save


def _fail_replace_of(monkeypatch, name):
    real = os.replace

    def replace(src, dst):
        if os.path.basename(dst) == name:
            raise OSError(f"simulated crash writing {name}")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_crash_on_the_first_file_leaves_the_previous_run_readable(tmp_path, monkeypatch, good_run):
    run = copy_run(good_run, tmp_path)
    _fail_replace_of(monkeypatch, "config.json")
    with pytest.raises(OSError):
        small_fit(run, seed=1, force=True)
    monkeypatch.undo()
    assert runs.read(str(run)).config["train"]["seed"] == 0
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]  # no half-written leftovers


def test_a_crash_half_way_is_reported_as_one_clear_line(tmp_path, monkeypatch, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    _fail_replace_of(monkeypatch, "model.safetensors")  # config.json is new by then, the manifest still old
    with pytest.raises(OSError):
        small_fit(run, seed=1, force=True)
    monkeypatch.undo()
    with pytest.raises(RunFolderError, match="config.json"):
        runs.read(str(run))
    code, _, err = run_cli(capsys, "predict", str(run), "1", "2")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "config.json" in err


# ---------------------------------------------------------------- damaged files are refused


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:  # flip one byte in the middle
        i = len(data) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])


@pytest.mark.parametrize("how", ["truncate", "flip", "delete"])
def test_damaging_any_file_makes_predict_exit_2_naming_it(tmp_path, capsys, good_run, how):
    names = sorted(p.name for p in good_run.iterdir() if p.name != ".mlpfit-run")  # the marker matters to --force only
    assert {"manifest.json", "model.safetensors", "config.json", "summary.json"} <= set(names)
    for name in names:
        run = tmp_path / f"{name}-{how}"
        shutil.copytree(good_run, run)
        damage(run / name, how)
        code, out, err = run_cli(capsys, "predict", str(run), "1", "2")
        lines = err.strip().splitlines()
        assert (code, out) == (2, ""), (name, err)
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in err, (name, err)


def test_a_newer_run_format_is_refused(tmp_path, capsys, good_run):
    run = copy_run(good_run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["version"] = runs.FORMAT_VERSION + 1
    manifest.pop("self")
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run_cli(capsys, "predict", str(run), "1", "2")
    assert code == 2 and "manifest.json" in err and "upgrade mlpfit" in err


def test_an_interrupted_run_folder_points_to_resume(tmp_path, capsys):
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "manifest.json").write_text("{}")
    code, _, err = run_cli(capsys, "predict", str(tmp_path), "1", "2")
    assert code == 2 and f"mlpfit fit --resume {tmp_path}" in err


# ---------------------------------------------------------------- fuzzing the reader


GOOD = {}  # the good run's files, kept out of hypothesis' arguments (their repr would be huge)


@pytest.fixture(scope="module")
def good_bytes(good_run):
    GOOD.update({p.name: p.read_bytes() for p in good_run.iterdir() if p.name != ".mlpfit-run"})  # read ignores it
    return GOOD


mutations = st.tuples(st.integers(0, 10**9), st.sampled_from(["flip", "set", "truncate", "insert"]),
                      st.integers(0, 255), st.integers(0, 10**9))


def mutate(data: bytes, mutation) -> bytes:
    pos, kind, value, index = mutation
    i = pos % (len(data) + 1)
    if kind == "truncate":
        return data[:i]
    if kind == "insert":
        return data[:i] + bytes([value]) + data[i:]
    if i == len(data):
        return data + bytes([value])
    new = data[i] ^ 0xFF if kind == "flip" else value
    return data[:i] + bytes([new]) + data[i + 1 :]


def write_run(folder: Path, files: dict) -> None:
    for old in folder.iterdir():
        old.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def resign(files: dict) -> dict:
    """Make the manifest match the files again: tampering that passes the checksums."""
    manifest = {"format": "mlpfit-run", "version": runs.FORMAT_VERSION,
                "sha256": {n: __import__("hashlib").sha256(d).hexdigest() for n, d in files.items() if n != "manifest.json"}}
    manifest["self"] = runs.manifest_digest(manifest)
    return {**files, "manifest.json": json.dumps(manifest).encode()}


@settings(max_examples=examples(800), deadline=None)
@given(data=st.data())
@pytest.mark.usefixtures("good_bytes")
def test_fuzz_any_mutation_of_any_file_is_read_or_refused_cleanly(data):
    good_bytes = GOOD
    name = data.draw(st.sampled_from(sorted(good_bytes)))
    files = {**good_bytes, name: mutate(good_bytes[name], data.draw(mutations))}
    with tempfile.TemporaryDirectory() as folder:
        write_run(Path(folder), files)
        try:
            runs.read(folder)
        except RunFolderError as err:
            assert "\n" not in str(err) and folder in str(err)
        else:
            assert files[name] == good_bytes[name] or name == "manifest.json"


@settings(max_examples=examples(300), deadline=None)
@given(data=st.data())
@pytest.mark.usefixtures("good_bytes")
def test_fuzz_re_signed_tampering_is_loaded_or_refused_cleanly(data):
    good_bytes = GOOD
    name = data.draw(st.sampled_from(sorted(set(good_bytes) - {"manifest.json"})))
    files = resign({**good_bytes, name: mutate(good_bytes[name], data.draw(mutations))})
    with tempfile.TemporaryDirectory() as folder:
        write_run(Path(folder), files)
        try:
            load(folder)
        except RunFolderError as err:
            assert "\n" not in str(err)


# ---------------------------------------------------------------- nothing is ever unpickled


FORBIDDEN_NAMES = {"pickle", "cPickle", "dill", "marshal", "shelve", "eval", "exec"}


def forbidden_calls(path: Path) -> list[str]:
    """Code tokens (not comments or strings) that unpickle or evaluate text: pickle, torch.load, eval, exec."""
    found, previous = [], []
    with open(path, "rb") as handle:
        for token in tokenize.tokenize(handle.readline):
            if token.type == tokenize.NAME:
                after_dot = previous[-1:] == ["."]
                if token.string in FORBIDDEN_NAMES and not after_dot:
                    found.append(f"{path.name}:{token.start[0]} {token.string}")
                if token.string == "load" and previous[-2:] == ["torch", "."]:
                    found.append(f"{path.name}:{token.start[0]} torch.load")
            if token.type in (tokenize.NAME, tokenize.OP):
                previous = (previous + [token.string])[-2:]
    return found


def test_the_source_never_unpickles_or_evaluates_text():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    assert [hit for path in files for hit in forbidden_calls(path)] == []


def test_the_grep_would_catch_them(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport torch\nx = torch.load('m.pt')\ny = eval('1')\n# eval( in a comment is fine\nm.eval()\n")
    assert forbidden_calls(bad) == ["bad.py:1 pickle", "bad.py:3 torch.load", "bad.py:4 eval"]
