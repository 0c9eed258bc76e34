"""mlpfit.boundary: what is read from or written into a folder someone else may have prepared."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit import boundary
from mlpfit.boundary import Unsafe


def test_a_regular_file_is_read_and_a_missing_one_is_none(tmp_path):
    (tmp_path / "a.json").write_bytes(b'{"a": 1}')
    assert boundary.read_regular(str(tmp_path / "a.json"), 100) == b'{"a": 1}'
    assert boundary.read_regular(str(tmp_path / "missing.json"), 100) is None
    assert boundary.read_json(str(tmp_path / "a.json"), 100) == {"a": 1}


def test_links_fifos_devices_and_large_files_are_refused(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 101)
    (tmp_path / "link").symlink_to(tmp_path / "big")
    os.mkfifo(tmp_path / "fifo")
    cases = {"big": "more than the 100", "link": "symbolic link", "fifo": "not a regular file"}
    for name, problem in cases.items():
        with pytest.raises(Unsafe, match=problem):
            boundary.read_regular(str(tmp_path / name), 100)
    with pytest.raises(Unsafe, match="not a regular file"):
        boundary.read_regular("/dev/zero", 100)
    assert boundary.read_head(str(tmp_path / "big"), 10) == b"x" * 10  # a head may come from a larger file


@pytest.mark.parametrize("text, depth", [("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4),
                                         ('["[[[[", "\\"]]"]', 1), ('{"a": "{\\\\"}', 1)])
def test_json_depth_counts_brackets_outside_strings_only(text, depth):
    assert boundary.json_depth(text.encode()) == depth


@settings(max_examples=examples(300), deadline=None)
@given(st.recursive(st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=20))
def test_json_depth_agrees_with_the_parsed_value(value):
    def depth(v):
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        return 0 if children is None else 1 + max(map(depth, children), default=0)

    assert boundary.json_depth(json.dumps(value).encode()) == depth(value)


def test_deep_json_is_refused_before_parsing():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(Unsafe, match="nests arrays or objects 100000 deep"):
        boundary.parse_json(deep, "x.json")
    with pytest.raises(Unsafe, match="not valid JSON"):
        boundary.parse_json(b"{", "x.json")


def test_writes_never_go_through_a_link(tmp_path):
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    (tmp_path / "folder-link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(Unsafe, match="symbolic link"):
        boundary.check_write_target(str(tmp_path / "link"))
    with pytest.raises(Unsafe, match="symbolic link"):
        boundary.open_for_append(str(tmp_path / "link"))
    with pytest.raises(Unsafe, match="symbolic link"):
        boundary.check_write_folder(str(tmp_path / "folder-link"))
    with pytest.raises(Unsafe, match="not a regular file"):
        boundary.check_write_target("/dev/null")
    assert (tmp_path / "target").read_text() == "keep"
    with boundary.open_for_append(str(tmp_path / "new.lock")) as handle:
        handle.write(b"")
    assert boundary.is_regular(str(tmp_path / "new.lock")) and not boundary.is_regular(str(tmp_path / "link"))
