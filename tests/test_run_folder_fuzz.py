"""Issue 12: fuzz the run folder, checkpoint and manifest readers with edits that pass the checksums.

Whatever is written into config.json, summary.json or scalers.json (manifest recomputed), whatever
a checkpoint's state or a manifest names, reading ends in a usable model or one RunFolderError,
never another exception. The findings of the issue are the seeds (``@example``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.config.schema import DataConfig, FitConfig, RunConfig, TrainConfig
from mlpfit.errors import RunFolderError
from mlpfit.fitting.fit import fit
from mlpfit.fitting.predicting import input_encoding, predict_rows, rows_from_values
from mlpfit.report.explain import explain
from mlpfit.runfolder import checkpoint, store
from mlpfit.runfolder.run import load, load_network

GOOD: dict = {}  # the good run's files, out of hypothesis' arguments
JSON_FILES = ["config.json", "summary.json", "scalers.json"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / "run"
    fit(FitConfig(data=DataConfig(target="x + y", samples=200), train=TrainConfig(epochs=2),
                  run=RunConfig(out=str(out), quiet=True, plots=False)))
    GOOD.update({p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")})
    return GOOD


def write_signed(folder: Path, files: dict) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {"format": "mlpfit-run", "version": store.FORMAT_VERSION,
                "sha256": {n: hashlib.sha256(d).hexdigest() for n, d in files.items() if n != "manifest.json"}}
    manifest["self"] = store.manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def replace_at(content, path: list, value):
    """``content`` with the value at ``path`` (keys or indexes, as far as they lead) replaced."""
    if not path or not isinstance(content, (dict, list)) or not content:
        return value
    key = path[0]
    if isinstance(content, dict):
        key = key if key in content else sorted(content)[hash(str(key)) % len(content)]
    else:
        key = key % len(content) if isinstance(key, int) else 0
    changed = copy.copy(content)
    changed[key] = replace_at(content[key], path[1:], value)
    return changed


@settings(max_examples=examples(150), deadline=None)
@given(name=st.sampled_from(JSON_FILES), path=st.lists(st.text(max_size=12) | st.integers(0, 8), max_size=4),
       value=json_values)
@example(name="summary.json", path=["architecture", "sizes"], value=[2, -64, 1])
@example(name="summary.json", path=["architecture", "sizes"], value=[2, 2**40, 1])
@example(name="scalers.json", path=["x", "mean"], value=[0.0, 0.0, 0.0])
@example(name="scalers.json", path=["x", "std"], value=[0.0, 1.0])
@example(name="scalers.json", path=["y", "std"], value=[math.nan])
@example(name="config.json", path=[], value=[])
@example(name="summary.json", path=["members"], value=[{"seed": 0}] * 100_000)
@example(name="summary.json", path=["ensemble"], value=True)
@example(name="summary.json", path=["diagnostics"], value=[{"code": 1}])
@example(name="summary.json", path=["architecture", "activation"], value="")  # resolved only when predicting
@example(name="summary.json", path=["history"], value={"columns": 5})
@example(name="summary.json", path=["inputs", 1], value="")  # predict's header check: "column 2 has no name"
@example(name="summary.json", path=["inputs", 1], value="0\r")  # stripped by that check: not found
@example(name="summary.json", path=["inputs", 1], value="x")  # twice
@pytest.mark.usefixtures("good_files")
def test_fuzz_signed_json_edits_load_and_predict_or_refuse(name, path, value):
    files = dict(GOOD)
    files[name] = json.dumps(replace_at(json.loads(GOOD[name]), path, value)).encode()
    with tempfile.TemporaryDirectory() as folder:
        write_signed(Path(folder), files)
        try:
            load(folder)  # what report, export and the estimators load
            fitted, summary = load_network(folder)  # what `mlpfit predict` loads
            encoding = input_encoding(fitted, summary)
            _, checked = rows_from_values(["1.0", "2.0"], encoding, "mlpfit predict RUN 1 2")
            out = predict_rows(fitted, checked, encoding)
            info = explain(folder)
        except RunFolderError as err:
            assert "\n" not in str(err)
        else:
            json.dumps(out, allow_nan=False)  # no NaN in --json output
            json.dumps(info)


@settings(max_examples=examples(30), deadline=None)
@given(at=st.integers(0, 400), text=st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
       replace=st.booleans())
@example(at=20, text="\r", replace=False)  # a lone carriage return: a raw _csv.Error, and `report` exited 1
@example(at=0, text="epoch\n1,\"", replace=True)  # an unclosed quote
@example(at=0, text="", replace=True)
@pytest.mark.usefixtures("good_files")
def test_fuzz_signed_history_edits_load_and_report_or_refuse(at, text, replace):
    from mlpfit.api import load as api_load
    from mlpfit.report.html import write_report

    files = dict(GOOD)
    history = GOOD["history.csv"].decode()
    files["history.csv"] = (text if replace else history[:at] + text + history[at:]).encode()
    with tempfile.TemporaryDirectory() as folder:
        write_signed(Path(folder), files)
        for read in (load, api_load, write_report):  # what report and export load, mlpfit.load, `mlpfit report`
            try:
                read(folder)
            except RunFolderError as err:
                assert "\n" not in str(err)


names = st.sampled_from(["config.json", "../victim.txt", "/etc/hostname", "a/b", "", ".", "..", "x" * 300,
                         "nul\x00name", "model.safetensors", "report.html", "..\\win"]) | st.text(max_size=20)


@settings(max_examples=examples(150), deadline=None)
@given(sha=st.dictionaries(names, st.text(max_size=64), max_size=6), derived=st.dictionaries(names, st.text(max_size=64), max_size=4),
       extra=st.dictionaries(st.sampled_from(["version", "format", "sha256", "derived"]), json_values, max_size=2))
@example(sha={"../victim.txt": hashlib.sha256(b"secret").hexdigest()}, derived={}, extra={})
@example(sha={}, derived={"/etc/hostname": "0" * 64}, extra={})
@pytest.mark.usefixtures("good_files")
def test_fuzz_manifests_are_read_or_refused(sha, derived, extra):
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "run"
        folder.mkdir()
        (Path(root) / "victim.txt").write_text("secret")
        for name, data in GOOD.items():
            (folder / name).write_bytes(data)
        manifest = json.loads(GOOD["manifest.json"])
        manifest["sha256"].update(sha)
        manifest["derived"] = derived
        manifest.update(extra)
        manifest["self"] = store.manifest_digest(manifest) if _jsonable(manifest) else "x"
        (folder / "manifest.json").write_text(json.dumps(manifest))
        try:
            store.read(str(folder))
        except RunFolderError as err:
            assert "\n" not in str(err)


def _jsonable(obj) -> bool:
    try:
        json.dumps(obj, sort_keys=True)
        return True
    except (TypeError, ValueError):
        return False


def checkpoint_state() -> dict:
    return {"config": {"data": {"target": "x"}}, "epoch": 3, "weights": np.ones((2, 3), dtype=np.float32),
            "optimizer": {0: {"exp_avg": np.zeros(3), "step": 4}}, "pair": (1, 2.5)}


@settings(max_examples=examples(150), deadline=None)
@given(path=st.lists(st.text(max_size=10) | st.integers(0, 4), max_size=4), value=json_values)
@example(path=["weights"], value={"__tensor__": "../../etc/passwd"})
@example(path=["optimizer"], value={"__items__": [[{"__tensor__": "nope"}, 1]]})
@example(path=[], value={"__tuple__": 5})
def test_fuzz_signed_checkpoint_states_load_or_refuse(path, value):
    with tempfile.TemporaryDirectory() as run:
        folder = checkpoint.save(run, checkpoint_state())
        manifest = json.loads(Path(folder, "manifest.json").read_text())
        state_name = manifest["files"]["state"]
        edited = replace_at(json.loads(Path(folder, state_name).read_text()), path, value)
        data = (json.dumps(edited) + "\n").encode()
        new_name = f"state-{hashlib.sha256(data).hexdigest()[:16]}.json"
        os.unlink(os.path.join(folder, state_name))
        Path(folder, new_name).write_bytes(data)
        manifest["files"]["state"] = new_name
        manifest["sha256"] = {manifest["files"]["tensors"]: manifest["sha256"][manifest["files"]["tensors"]],
                              new_name: hashlib.sha256(data).hexdigest()}
        manifest["self"] = store.manifest_digest(manifest)
        Path(folder, "manifest.json").write_text(json.dumps(manifest))
        try:
            checkpoint.load(run)
        except RunFolderError as err:
            assert "\n" not in str(err)
