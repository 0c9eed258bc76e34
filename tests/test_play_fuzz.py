"""Issue 29: fuzz every route of the playground's server, as the file readers are fuzzed.

Whatever the method, path, query, headers and body, the server answers 200, 400, 403, 404 or 405
(never a 500), an error is one JSON line, nothing outside --runs is served, and nothing outside
--runs is written. Trainings are replaced by a stand-in (the fuzz is about the boundary, not
training), and the event stream, which never ends by design, is left out. Bounded and
derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import json
import os
import string
import urllib.parse
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import examples

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from conftest import runs_beside_a_secret
from mlpfit.play import pages as pages_module
from mlpfit.play.app import create_app

SECRET = "outside-secret-7f3a"
ANSWERS = {200, 400, 403, 404, 405}


class StandIn:
    """A training that is over at once: what the routes need of a Session, without a network."""

    def __init__(self, settings, runs_dir):
        self.settings, self.state, self.saved = settings, "ready", None

    def start(self):
        self.state = "done"

    step = pause = start

    def stop(self):
        self.state = "stopped"

    def save(self):
        from mlpfit.errors import UsageError

        raise UsageError("nothing to save yet")

    def update_text(self, cursor):
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-play")
    runs = runs_beside_a_secret(root, SECRET, epochs=2)
    (runs / "good" / "outside.json").symlink_to(root / "secret.txt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pages_module, "Session", StandIn)
        app = create_app(str(runs))
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, app.state.token, root


def outside_files(root) -> dict:
    """Every file beside --runs, with its content: must never change."""
    return {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}


segments = st.one_of(
    st.sampled_from(["good", "..", "%2e%2e", "uploads", "report.html", "config.json", "summary.json", "outside.json",
                     "secret.txt", "history.csv", "play.js", "index.html", "manifest.json", ".", "%00", "a" * 300]),
    st.text(alphabet=string.printable + "é☃\u202e", max_size=20).map(lambda s: urllib.parse.quote(s, safe="")),
)
paths = st.one_of(
    st.sampled_from(["/", "/runs", "/api/options", "/api/inspect", "/api/start", "/api/control", "/api/save",
                     "/api/upload", "/api/runs"]),
    st.builds("/static/{}".format, segments),
    st.builds("/api/runs/{}".format, segments),
    st.builds("/runs/{}/{}".format, segments, segments),
    st.builds("/{}".format, segments),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
requests = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]),
    "path": paths,
    "query": st.dictionaries(st.sampled_from(["target", "name", "page", "target-column", "x"]),
                             st.text(max_size=30), max_size=3),
    "body": st.one_of(st.none(), st.binary(max_size=300),
                      st.builds(lambda v: json.dumps(v).encode(), json_values),
                      st.builds(lambda page, target: json.dumps({"page": page, "settings": {"target": target},
                                                                 "action": "reset"}).encode(),
                                st.sampled_from(["page-12345678", "x", "../../etc"]), st.text(max_size=20)),
                      st.just(b"a,b\n1,2\n2,4\n3,6\n")),
    "content_type": st.sampled_from(["application/json", "text/csv", "text/plain", "application/octet-stream", ""]),
    "token": st.sampled_from(["valid", "wrong", None]),
    "site": st.sampled_from([None, "same-origin", "cross-site", "same-site", "none"]),
    "origin": st.sampled_from([None, "http://testserver", "null", "http://evil.example"]),
})


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests)
def test_every_route_answers_within_its_promises(served, request):
    client, token, root = served
    before = outside_files(root)
    headers = {"content-type": request["content_type"]} if request["content_type"] else {}
    if request["token"]:
        headers["x-mlpfit-token"] = token if request["token"] == "valid" else "wrong-token"
    if request["site"]:
        headers["sec-fetch-site"] = request["site"]
    if request["origin"]:
        headers["origin"] = request["origin"]
    answer = client.request(request["method"], request["path"], params=request["query"], content=request["body"],
                            headers=headers)
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text[:300])
    assert SECRET not in answer.text
    if answer.status_code in (400, 403) and request["method"] != "HEAD":
        error = answer.json()["error"]
        assert isinstance(error, str) and "\n" not in error and "Traceback" not in error
    if request["path"].startswith("/api/") and request["method"] == "POST" and request["token"] != "valid":
        assert answer.status_code in (403, 404, 405)  # no change without the page's token
    assert outside_files(root) == before
    assert not os.path.exists(root / "runs" / "good" / "outside.json") or os.path.islink(root / "runs" / "good" / "outside.json")
