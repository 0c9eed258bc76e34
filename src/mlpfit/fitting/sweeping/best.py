"""Refit the best setting into <out>/best, safely when several workers finish at once.

Each refit is built in a fresh hidden folder beside <out>/best and swapped in by renames, so a
reader never sees half a run folder; a lock file serializes the workers of one machine, and the
best setting is read under the lock, so the last worker to refit uses the study's latest best. A
worker that finds <out>/best already holding that setting leaves it alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

from mlpfit import atomic, boundary
from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError
from mlpfit.fitting.fit import fit
from mlpfit.fitting.sweeping.plan import apply_setting

SETTING_FILE = "sweep-setting.json"  # in <out>/best: which setting it holds
MAX_SETTING_BYTES = 2**16  # a setting is a few names and numbers


def refit_best(base: cfg.FitConfig, out: str, best_setting) -> tuple[str, dict]:
    """Refit ``best_setting()`` (called under the lock) into <out>/best; returns (folder, setting)."""
    target = os.path.join(out, "best")
    with folder_lock(os.path.join(out, ".best.lock")):
        setting = best_setting()
        if current_setting(target) == setting:
            return target, setting
        building = tempfile.mkdtemp(prefix=".best-", dir=out)
        try:
            os.chmod(building, 0o777 & ~atomic.umask())  # mkdtemp makes 0700; a run folder is meant to be shared
            fit_into(base, setting, building)
            swap_in(building, target)
        finally:
            shutil.rmtree(building, ignore_errors=True)  # gone after a swap; half a folder after a failure
    return target, setting


def fit_into(base: cfg.FitConfig, setting: dict, folder: str) -> None:
    refit = apply_setting(base, setting)
    refit.run = cfg.RunConfig(out=folder, json=True, quiet=True, force=True)
    fit(refit)
    atomic.write_json(os.path.join(folder, SETTING_FILE), {"setting": setting})


def swap_in(new: str, target: str) -> None:
    """Replace target by the complete folder new: a rename can't replace a folder that has files,
    so the old one is renamed aside first and deleted after."""
    old = None
    if os.path.isdir(target):
        old = tempfile.mkdtemp(prefix=".best-old-", dir=os.path.dirname(target))
        os.rename(target, os.path.join(old, "best"))
    os.rename(new, target)
    if old:
        shutil.rmtree(old)


def current_setting(folder: str) -> dict | None:
    try:
        setting = boundary.read_json(os.path.join(folder, SETTING_FILE), MAX_SETTING_BYTES)["setting"]
    except (boundary.Unsafe, TypeError, KeyError):  # missing, a link, a FIFO, or not what a refit wrote
        return None
    return setting if isinstance(setting, dict) else None


@contextlib.contextmanager
def folder_lock(path: str):
    """An exclusive lock between processes of one machine (flock; released if the holder dies)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the renames alone keep <out>/best whole
        yield
        return
    try:
        handle = boundary.open_for_append(path)  # never through a link planted in the sweep folder
    except boundary.Unsafe as err:
        raise UsageError(f"{err}: remove it, or choose another --out") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
