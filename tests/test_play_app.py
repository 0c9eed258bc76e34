"""The playground's server without a browser: its API, its limits, and that nothing outside --runs is reachable."""

from __future__ import annotations

import os
import warnings

import pytest

with warnings.catch_warnings():  # Starlette 1.x prefers the httpx2 fork; httpx (declared in the play extra) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mlpfit.play.app import allowed_hosts, create_app, is_loopback
from mlpfit.play.runlist import NotFound, list_runs, run_file, run_folder

PAGE = "page-0123456789"
SMALL = {"target": "sin(3*x)", "samples": "300", "hidden": "8,8", "epochs": "100", "batch-size": "16"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A client, its --runs folder with one saved run, and a secret file beside --runs."""
    root = tmp_path_factory.mktemp("play")
    (root / "secret.txt").write_text("not for the web")
    runs = root / "runs"
    runs.mkdir()
    (runs / "notes").mkdir()  # a folder that is not a run: not listed
    app = create_app(str(runs))
    with TestClient(app, headers={"x-mlpfit-token": app.state.token}) as client:  # as the page sends it
        answer = client.post("/api/start", json={"page": PAGE, "settings": SMALL})
        assert answer.status_code == 200, answer.text
        session = app.state.pages.get(PAGE)
        assert session.join(120) and session.state == "done", session.error
        saved = client.post("/api/save", json={"page": PAGE})
        assert saved.status_code == 200, saved.text
        yield client, runs, saved.json()


def test_the_page_carries_every_test_id(served):
    client, _, _ = served
    html = client.get("/").text
    for testid in ("target", "start", "status", "loss", "fit", "units", "metrics", "save"):
        assert f'data-testid="{testid}"' in html
    assert client.get("/static/play.js").status_code == 200
    assert "https://" not in client.get("/static/play.js").text  # nothing is fetched from the network
    assert client.get("/static/app.py").status_code == 404


def test_refused_input_is_an_error_line_and_the_server_keeps_serving(served):
    client, _, _ = served
    for settings in ({"target": "sin(3*x"}, {"target": "__import__('os').system('true')"}, {"hidden": "4096"},
                     {"target": "log(x)", "domain": "-1:1"}, {"samples": "100000000"}):
        answer = client.post("/api/start", json={"page": "page-bad-input", "settings": settings})
        assert answer.status_code == 400 and answer.json()["error"], settings
    assert client.post("/api/start", content=b"target=x", headers={"content-type": "text/plain"}).status_code == 400
    assert client.post("/api/start", json={"page": "../x", "settings": {}}).status_code == 400
    assert client.get("/api/options").status_code == 200


def test_inspect_names_the_inputs_or_says_what_is_wrong(served):
    client, _, _ = served
    assert client.get("/api/inspect", params={"target": "x1 + x2*x3"}).json()["inputs"] == ["x1", "x2", "x3"]
    assert "error" in client.get("/api/inspect", params={"target": "open('/etc/passwd')"}).json()


def test_save_writes_under_runs_and_runs_lists_it(served):
    client, runs, saved = served
    assert os.path.dirname(saved["path"]) == str(runs)
    assert "mlpfit fit 'sin(3*x)'" in saved["command"]
    listed = client.get("/api/runs").json()["runs"]
    assert [r["name"] for r in listed] == [saved["run"]]  # "notes" is not a run folder
    row = listed[0]
    assert row["target"] == "sin(3*x)" and row["metric"] == "R²" and row["value"] > 0.9 and row["report"]
    assert row["model"] == "1-8-8-1 tanh"
    detail = client.get(f"/api/runs/{saved['run']}").json()
    assert len(detail["val_loss"]) == detail["epochs"] and detail["config"]["model"]["hidden"] == [8, 8]
    report = client.get(saved["report"])
    assert report.status_code == 200 and "<html" in report.text
    assert client.get("/runs").status_code == 200


@pytest.mark.parametrize("url", [
    "/runs/..%2Fsecret.txt/report.html",
    "/runs/../secret.txt",
    "/runs/%2E%2E/secret.txt",
    "/api/runs/..",
    "/api/runs/%2E%2E%2Fsecret.txt",
    "/runs/notes/report.html",
    "/runs/uploads/x.csv",
])
def test_nothing_outside_runs_is_served(served, url):
    client, _, _ = served
    answer = client.get(url)
    assert answer.status_code == 404 and "not for the web" not in answer.text


def test_a_run_file_must_be_a_plain_name_inside_the_run(served):
    client, runs, saved = served
    assert client.get(f"/runs/{saved['run']}/config.json").status_code == 200
    for file in ("..%2F..%2Fsecret.txt", "model.safetensors", ".hidden.json"):
        assert client.get(f"/runs/{saved['run']}/{file}").status_code == 404


def test_symlinks_out_of_runs_are_refused(served, tmp_path):
    _, runs, saved = served
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}")
    link = runs / "link-out"
    link.symlink_to(outside, target_is_directory=True)
    try:
        with pytest.raises(NotFound):
            run_folder(str(runs), "link-out")
        (runs / saved["run"] / "peek.json").symlink_to(tmp_path / "elsewhere" / "manifest.json")
        with pytest.raises(NotFound):
            run_file(str(runs), saved["run"], "peek.json")
        assert "link-out" not in [r["name"] for r in list_runs(str(runs))]
    finally:
        link.unlink()
        (runs / saved["run"] / "peek.json").unlink(missing_ok=True)


def test_uploads_are_capped_checked_and_kept_in_runs(served):
    client, runs, _ = served
    header = {"content-type": "text/csv"}
    good = client.post("/api/upload?name=../../evil.csv", content=b"a,b\n1,2\n2,4\n3,6\n", headers=header)
    assert good.status_code == 200, good.text
    name = good.json()["target"].removeprefix("upload:")
    assert os.path.isfile(runs / "uploads" / name) and ".." not in name
    bad = client.post("/api/upload?name=bad.csv", content=b"a,b\n1,2\n3\n", headers=header)
    assert bad.status_code == 400 and "bad.csv" in bad.json()["error"] and str(runs) not in bad.json()["error"]
    assert len(os.listdir(runs / "uploads")) == 1  # the refused table was not kept
    huge = client.post("/api/upload?name=big.csv", content=b"a,b\n" + b"1,2\n" * 1_400_000, headers=header)
    assert huge.status_code == 400 and "MiB" in huge.json()["error"]
    assert client.post("/api/upload", content=b"a,b\n1,2\n", headers={"content-type": "text/plain"}).status_code == 400


def test_an_upload_is_read_as_fit_reads_it_holes_separators_and_many_levels(served):
    client, _, _ = served
    rows = "".join(f"c{k % 60};{k % 7 if k % 11 else ''};{k},5\n" for k in range(300))
    reply = client.post("/api/upload?name=eu.csv", content=("city;x;y\n" + rows).encode(),
                        headers={"content-type": "text/csv"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["columns"] == ["city", "x", "y"]


def test_controls_need_a_training(served):
    client, _, _ = served
    answer = client.post("/api/control", json={"page": "page-without-training", "action": "pause"})
    assert answer.status_code == 400 and "press Start" in answer.json()["error"]
    assert client.post("/api/control", json={"page": PAGE, "action": "explode"}).status_code == 400
    assert client.post("/api/save", json={"page": "page-without-training"}).status_code == 400


def test_loopback_only_answers_loopback_host_names(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    app = create_app(str(tmp_path), allowed_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        assert client.get("/api/options").status_code == 200
    with TestClient(app, base_url="http://attacker.example") as client:  # DNS rebinding
        assert client.get("/api/options").status_code == 400
