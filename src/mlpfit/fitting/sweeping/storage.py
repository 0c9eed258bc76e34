"""Where a shared study lives: a journal file for processes on one machine, a database for many machines.

- No --storage: the study lives in memory and dies with the process (one worker, repeatable).
- A journal file path (``sweep.journal``): an append-only log that processes on one machine (or
  one shared file system) share through file locks. Optuna 5.0's journal storage has no
  heartbeat, so a trial whose worker was killed stays "running" there.
- A database URL (``postgresql://user@host:5432/db``, or ``sqlite:///file.db``): machines share
  the study through the server. Workers send heartbeats; a trial whose worker stopped beating
  for the grace period is marked failed and queued again (Optuna's heartbeat with
  :class:`RetryHeartbeatStaleTrialCallback`), so a killed worker loses nothing but time.

The heartbeat is ``MLPFIT_SWEEP_HEARTBEAT=INTERVAL:GRACE`` seconds, default 10:40: a dead worker's
trial is failed within about GRACE + INTERVAL seconds (under a minute) and retried.
"""

# Deferred imports: optuna and SQLAlchemy load inside the functions that open a storage.

from __future__ import annotations

import os
import time
import warnings

from mlpfit.errors import UsageError

HEARTBEAT_ENV = "MLPFIT_SWEEP_HEARTBEAT"
DEFAULT_HEARTBEAT = (10, 40)  # seconds between heartbeats, seconds of silence before a trial is dead
MAX_RETRY = 3  # a setting that kills its worker every time (out of memory, say) is not retried forever
CONNECT_TIMEOUT = 10  # seconds to wait for a database server before saying it cannot be reached
CREATE_ATTEMPTS = 5  # opening a fresh database while another worker creates its tables


def is_database(url: str | None) -> bool:
    return url is not None and "://" in url


def heartbeat_settings() -> tuple[int, int]:
    """(interval, grace) in whole seconds, from MLPFIT_SWEEP_HEARTBEAT or the defaults."""
    text = os.environ.get(HEARTBEAT_ENV, "").strip()
    if not text:
        return DEFAULT_HEARTBEAT
    try:
        interval, grace = (int(part) for part in text.split(":"))
        if not 0 < interval < grace:
            raise ValueError
    except ValueError:
        raise UsageError(f"{HEARTBEAT_ENV}={text!r} is not INTERVAL:GRACE in whole seconds with "
                         "0 < INTERVAL < GRACE: write e.g. 10:40") from None
    return interval, grace


def open_storage(url: str | None, *, must_exist: bool = False):
    """None: in memory; a URL with ``://``: a database with heartbeats; otherwise a journal file path."""
    if url is None:
        return None
    return open_database(url) if is_database(url) else open_journal(url, must_exist)


def open_journal(url: str, must_exist: bool = False):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = url.removeprefix("journal:")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--storage {url!r}: folder {folder!r} does not exist: create it or name another journal file")
    if must_exist and not os.path.isfile(path):
        raise UsageError(f"--storage {url!r}: no such journal file: name the file a sweep wrote")
    return JournalStorage(JournalFileBackend(path))


def open_database(url: str):
    """Optuna's RDB storage with heartbeats on; a missing driver or server is one clear UsageError."""
    import optuna
    import sqlalchemy

    shown = _without_password(url)
    interval, grace = heartbeat_settings()
    engine = {"pool_pre_ping": True}  # a long sweep outlives idle connections the server drops
    if url.startswith(("postgresql", "postgres")):
        engine["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    _quiet_heartbeat_warnings()
    try:
        for attempt in range(CREATE_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(url, engine_kwargs=engine, heartbeat_interval=interval,
                                                  grace_period=grace, **_retry_callback())
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
                # Workers started together on a fresh database race to create Optuna's tables
                # ("duplicate key ... pg_type"): the loser opens what the winner created.
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except ImportError as err:
        missing = getattr(err.__cause__, "name", None) or "the driver"
        raise UsageError(f"--storage {shown}: the database driver is missing ({missing}): "
                         "pip install \"mlpfit[postgres]\" for postgresql:// URLs") from None
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError):
        raise UsageError(f"--storage {shown} is not a database URL: write e.g. postgresql://user@host:5432/db, "
                         "or a journal file path") from None
    except sqlalchemy.exc.OperationalError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise UsageError(f"--storage {shown}: cannot reach the database ({reason}): check the host, port, user "
                         "and database name, and that the server runs") from None


def _retry_callback() -> dict:
    """Re-queue a dead worker's trial: Optuna 4.9 renamed the callback and its argument."""
    from optuna import storages

    if hasattr(storages, "RetryHeartbeatStaleTrialCallback"):
        return {"heartbeat_stale_trial_callback": storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)}
    return {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry=MAX_RETRY)}


def _quiet_heartbeat_warnings() -> None:
    """Optuna marks heartbeats experimental and expects them with study.optimize; a sweep asks and
    tells in batches and sends the heartbeats itself (see heartbeat.py), so both warnings are noise."""
    from optuna.exceptions import ExperimentalWarning

    warnings.filterwarnings("ignore", category=ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")


def _without_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: the URL error below says so
        return url
