"""mlpfit.atomic: a write either lands whole or leaves the previous file; only derived files skip the flush."""

from __future__ import annotations

import os

import pytest

from mlpfit import atomic


def flushes(monkeypatch) -> list[int]:
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    return calls


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.bin"
    atomic.write_bytes(str(path), b"old")
    with pytest.raises(RuntimeError), atomic.replacing(str(path)) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.bin"]


def test_a_run_file_is_flushed_to_disk_before_the_rename(tmp_path, monkeypatch):
    calls = flushes(monkeypatch)
    atomic.write_json(str(tmp_path / "summary.json"), {"a": 1})
    assert len(calls) == 1


def test_a_derived_file_is_renamed_into_place_without_a_flush(tmp_path, monkeypatch):
    calls = flushes(monkeypatch)
    atomic.write_text(str(tmp_path / "report.html"), "<html>", derived=True)
    assert calls == [] and (tmp_path / "report.html").read_text() == "<html>"
    assert os.listdir(tmp_path) == ["report.html"]
