"""Issue 29: the playground's server under attack. Each test is one reproduction from the issue.

Everything happens inside pytest's temporary folder: a --runs folder with one real run, and a
``secret`` file beside it that nothing may serve. Requests that used to hang run in a thread with
a deadline, so a regression fails instead of stopping the suite.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import warnings

import pytest

with warnings.catch_warnings():  # Starlette 1.x prefers the httpx2 fork; httpx (declared in the play extra) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from conftest import runs_beside_a_secret
from mlpfit.errors import UsageError
from mlpfit.play import pages as pages_module
from mlpfit.play.app import create_app
from mlpfit.play.pages import MAX_RUNNING, Pages
from mlpfit.play.server import Background, host_warning

SECRET = "password=hunter2"
PLANTED = "<html><body><script>fetch('/api/upload', {method: 'POST', body: 'a,b\\n1,2\\n'})</script></body></html>"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """--runs with one real run folder, and a secret file outside --runs."""
    return runs_beside_a_secret(tmp_path_factory.mktemp("attack"), SECRET, epochs=3)


@pytest.fixture
def client(runs):
    app = create_app(str(runs))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.token = app.state.token
        yield client


def copy_run(runs, name: str):
    """A copy of the good run under a new name (the attack edits the copy)."""
    shutil.copytree(runs / "good", runs / name)
    return runs / name


def in_thread(call, seconds: float = 20.0):
    """call() with a deadline: (finished, its result)."""
    box = {}
    worker = threading.Thread(target=lambda: box.update(result=call()), daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive(), box.get("result")


# ---------------------------------------------------------------- 1. stored script on the server's origin


def test_a_planted_report_is_served_in_a_sandbox_and_cannot_use_the_api(runs, client):
    planted = copy_run(runs, "planted")
    (planted / "report.html").write_text(PLANTED)
    try:
        page = client.get("/runs/planted/report.html")
        policy = page.headers.get("content-security-policy", "")
        assert page.status_code == 200 and "sandbox" in policy and "default-src 'none'" in policy
        assert "script-src" not in policy and "unsafe-eval" not in policy  # no script may run in it
        assert page.headers.get("x-content-type-options") == "nosniff"
        # What the planted page's script would send: from a sandbox its origin is opaque ("null"),
        # and it cannot read the token the playground's own page carries.
        as_planted = {"content-type": "text/csv", "origin": "null", "sec-fetch-site": "cross-site"}
        assert client.post("/api/upload?name=x.csv", content=b"a,b\n1,2\n2,4\n", headers=as_planted).status_code == 403
        same_origin_without_token = {"content-type": "text/csv", "sec-fetch-site": "same-origin"}
        answer = client.post("/api/upload?name=x.csv", content=b"a,b\n1,2\n2,4\n", headers=same_origin_without_token)
        assert answer.status_code == 403 and "token" in answer.json()["error"]
        for url, body in (("/api/start", {"page": "page-12345678", "settings": {"target": "x"}}),
                          ("/api/save", {"page": "page-12345678"})):
            assert client.post(url, json=body, headers={"sec-fetch-site": "same-origin"}).status_code == 403
        assert not (runs / "uploads").exists()  # nothing was written
    finally:
        shutil.rmtree(planted)


def test_another_site_cannot_use_the_api_even_with_a_guessed_header(client):
    foreign = {"origin": "http://evil.example", "x-mlpfit-token": "guess"}
    assert client.post("/api/control", json={"page": "page-12345678", "action": "reset"}, headers=foreign).status_code == 403
    assert client.get("/api/runs", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert client.get("/api/runs", headers={"sec-fetch-site": "same-origin"}).status_code == 200


def test_the_page_carries_the_token_that_its_posts_need(client):
    page = client.get("/").text
    assert f'<meta name="mlpfit-token" content="{client.token}">' in page
    answer = client.post("/api/control", json={"page": "page-12345678", "action": "reset"},
                         headers={"x-mlpfit-token": client.token, "sec-fetch-site": "same-origin",
                                  "origin": "http://testserver"})
    assert answer.status_code == 200, answer.text


# ---------------------------------------------------------------- 2. reading outside --runs


def test_api_runs_does_not_follow_a_linked_config_summary_or_history(runs, client):
    for file in ("config.json", "summary.json", "history.csv"):
        linked = copy_run(runs, "linked")
        try:
            (linked / file).unlink()
            (linked / file).symlink_to(runs.parent / "secret.txt")
            answer = client.get("/api/runs/linked")
            assert answer.status_code == 404 and SECRET not in answer.text, file
            assert SECRET not in client.get("/api/runs").text
        finally:
            shutil.rmtree(linked)


def test_a_fifo_summary_neither_blocks_the_list_nor_the_detail(runs, client):
    fifo_run = copy_run(runs, "fifo")
    (fifo_run / "summary.json").unlink()
    os.mkfifo(fifo_run / "summary.json")
    try:
        finished, answer = in_thread(lambda: client.get("/api/runs"))
        assert finished, "GET /api/runs waited on a FIFO"
        assert answer.status_code == 200 and [r["name"] for r in answer.json()["runs"]] == ["good"]
        finished, answer = in_thread(lambda: client.get("/api/runs/fifo"))
        assert finished and answer.status_code == 404
    finally:
        _unblock(fifo_run / "summary.json")
        shutil.rmtree(fifo_run)


def _unblock(fifo) -> None:
    """Open the FIFO for writing without waiting, so a reader stuck in it (a regression) gets EOF."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # no reader waits: nothing to release


def test_a_summary_linked_to_dev_zero_is_not_read(runs, client):
    endless = copy_run(runs, "endless")
    (endless / "summary.json").unlink()
    (endless / "summary.json").symlink_to("/dev/zero")
    try:
        finished, answer = in_thread(lambda: client.get("/api/runs"))
        assert finished and answer.status_code == 200 and [r["name"] for r in answer.json()["runs"]] == ["good"]
    finally:
        shutil.rmtree(endless)


def test_a_deeply_nested_summary_leaves_the_list_standing(runs, client):
    deep = copy_run(runs, "deep")
    (deep / "summary.json").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    try:
        answer = client.get("/api/runs")
        assert answer.status_code == 200 and [r["name"] for r in answer.json()["runs"]] == ["good"]
        assert client.get("/api/runs/deep").status_code == 404
    finally:
        shutil.rmtree(deep)


# ---------------------------------------------------------------- 5. limits under load


def test_twenty_parallel_starts_start_at_most_the_limit(tmp_path, monkeypatch):
    class SlowSession:  # reading the data takes a while: every start overlaps every other
        def __init__(self, settings, runs_dir):
            time.sleep(0.5)
            self.state = "ready"

        def start(self):
            self.state = "running"

        def stop(self):
            self.state = "stopped"

    monkeypatch.setattr(pages_module, "Session", SlowSession)
    pages = Pages(str(tmp_path))
    gate, refused = threading.Barrier(20), []

    def start(k):
        gate.wait()
        try:
            pages.start(f"page-{k:08d}", {"target": "x"})
        except UsageError:
            refused.append(k)

    threads = [threading.Thread(target=start, args=(k,)) for k in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    running = [s for s in pages.sessions.values() if s.state == "running"]
    assert len(running) == MAX_RUNNING and len(refused) == 20 - MAX_RUNNING


def test_a_body_nested_deep_is_one_line_400_not_a_traceback(client):
    body = '{"page": ' + "[" * 10_000 + "]" * 10_000 + "}"
    answer = client.post("/api/start", content=body, headers={"content-type": "application/json",
                                                              "x-mlpfit-token": client.token})
    assert answer.status_code == 400 and "nests" in answer.json()["error"] and "Traceback" not in answer.text
    huge = client.post("/api/start", content=b'{"page": "' + b"a" * 200_000 + b'"}',
                       headers={"content-type": "application/json", "x-mlpfit-token": client.token})
    assert huge.status_code == 400 and "larger than" in huge.json()["error"]


# ---------------------------------------------------------------- 8. hosts and the uploads folder


def test_listening_on_all_addresses_says_the_host_check_is_off():
    warning = host_warning("0.0.0.0", "runs")
    assert warning and "Host header is not checked" in warning and "\n" not in warning
    assert host_warning("127.0.0.1", "runs") is None


def test_another_loopback_address_answers_at_the_printed_url(tmp_path):
    server = Background(str(tmp_path), host="127.0.0.2")
    try:
        import httpx

        assert server.url.startswith("http://127.0.0.2:")
        answer = httpx.get(server.url + "/api/options", timeout=20)
        assert answer.status_code == 200, answer.text
    finally:
        server.stop()


def test_a_linked_uploads_folder_is_not_written_through(tmp_path):
    runs, outside = tmp_path / "runs", tmp_path / "outside"
    runs.mkdir()
    outside.mkdir()
    (runs / "uploads").symlink_to(outside, target_is_directory=True)
    app = create_app(str(runs))
    with TestClient(app, headers={"x-mlpfit-token": app.state.token}) as client:
        answer = client.post("/api/upload?name=t.csv", content=b"a,b\n1,2\n2,4\n3,6\n", headers={"content-type": "text/csv"})
    assert answer.status_code == 400 and "symbolic link" in answer.json()["error"] and str(tmp_path) not in answer.text
    assert os.listdir(outside) == []


def test_a_very_wide_upload_is_refused_before_it_is_read(tmp_path):
    app = create_app(str(tmp_path))
    wide = (",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" * 5000) + "\n").encode()
    with TestClient(app, headers={"x-mlpfit-token": app.state.token}) as client:
        answer = client.post("/api/upload?name=wide.csv", content=wide, headers={"content-type": "text/csv"})
    assert answer.status_code == 400 and "5000 columns" in answer.json()["error"]
    assert not (tmp_path / "uploads").exists() or os.listdir(tmp_path / "uploads") == []
