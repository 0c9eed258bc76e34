"""Where a shared study lives: a journal file for processes on one machine, a database for many machines.

- No --storage: the study lives in memory and dies with the process (one worker, repeatable).
- A journal file path (``sweep.journal``): an append-only log that processes on one machine (or
  one shared file system) share through file locks. Optuna 5.0's journal storage has no
  heartbeat, so a trial whose worker was killed stays "running" there.
- A database URL (``postgresql://user@host:5432/db``, or ``sqlite:///file.db``): machines share
  the study through the server. Workers send heartbeats; a trial whose worker stopped beating
  for the grace period is marked failed and queued again (Optuna's heartbeat with
  :class:`RetryHeartbeatStaleTrialCallback`), so a killed worker loses nothing but time.

A journal file must be a regular file that is empty or holds Optuna's log (never a link, a FIFO or
a device, never a CSV given by mistake), so a sweep neither hangs nor writes through a link nor
appends to a file it did not write. A database URL is shown with its password hidden, always.

The heartbeat is ``MLPFIT_SWEEP_HEARTBEAT=INTERVAL:GRACE`` seconds, default 10:40: a dead worker's
trial is failed within about GRACE + INTERVAL seconds (under a minute) and retried.
"""

# Deferred imports: optuna and SQLAlchemy load inside the functions that open a storage.

from __future__ import annotations

import os
import re
import time
import warnings

from mlpfit import boundary
from mlpfit.errors import UsageError, printable, quoted_error

HEARTBEAT_ENV = "MLPFIT_SWEEP_HEARTBEAT"
DEFAULT_HEARTBEAT = (10, 40)  # seconds between heartbeats, seconds of silence before a trial is dead
MAX_RETRY = 3  # a setting that kills its worker every time (out of memory, say) is not retried forever
CONNECT_TIMEOUT = 10  # seconds to wait for a database server before saying it cannot be reached
CREATE_ATTEMPTS = 5  # opening a fresh database while another worker creates its tables
FIRST_LINE_BYTES = 2**20  # an Optuna journal's first record (the study's creation) is a few hundred bytes
PASSWORD = re.compile(r"^([^/]*://[^:@/]*):[^@/]*@")  # scheme://user:password@ -> its password


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
    check_journal(path, url)
    if must_exist and not os.path.isfile(path):
        raise UsageError(f"--storage {url!r}: no such journal file: name the file a sweep wrote")
    return JournalStorage(JournalFileBackend(path))


def check_journal(path: str, url: str) -> None:
    """A journal to append to: missing, empty, or a regular file whose first line is an Optuna record."""
    try:
        boundary.check_write_target(path)
        head = boundary.read_head(path, FIRST_LINE_BYTES)
    except boundary.Unsafe as err:
        raise UsageError(f"--storage {printable(url)!r} {err.problem}: name a journal file (a new one, or one a sweep "
                         "wrote)") from None
    if head and not is_journal_line(head.split(b"\n", 1)[0]):
        raise UsageError(f"--storage {url!r} is not an Optuna journal (its first line is no journal record): mlpfit "
                         "appends only to a journal a sweep wrote; name a new file, e.g. sweep.journal")


def is_journal_line(line: bytes) -> bool:
    try:
        record = boundary.parse_json(line, "journal")
    except boundary.Unsafe:
        return False
    return isinstance(record, dict) and isinstance(record.get("op_code"), int)


def open_database(url: str):
    """Optuna's RDB storage with heartbeats on; a missing driver or server is one clear UsageError."""
    import optuna
    import sqlalchemy

    shown = shown_url(url)
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
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ValueError):
        # ValueError: a part SQLAlchemy cannot parse, such as a port that is not a number
        raise UsageError(f"--storage {shown} is not a database URL: write e.g. postgresql://user@host:5432/db, "
                         "or a journal file path") from None
    except sqlalchemy.exc.OperationalError as err:
        reason = quoted_error(getattr(err, "orig", err)).replace(url, shown)
        raise UsageError(f"--storage {shown}: cannot reach the database ({reason}): check the host, port, user "
                         "and database name, and that the server runs") from None
    except sqlalchemy.exc.DatabaseError as err:  # e.g. sqlite:/// naming a file that is not a database
        reason = quoted_error(getattr(err, "orig", err)).replace(url, shown)
        raise UsageError(f"--storage {shown} is not a usable database ({reason}): name a database mlpfit's sweeps "
                         "may use, or a journal file path") from None


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


def shown_url(url: str) -> str:
    """The storage as messages show it: a database URL without its password (SQLAlchemy's rendering, or for a
    URL it cannot parse, the text with its password cut out), control characters escaped for the terminal."""
    shown = PASSWORD.sub(r"\1:***@", url)
    if is_database(url):
        try:
            from sqlalchemy.engine import make_url

            shown = make_url(url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - SQLAlchemy raises several types on a bad URL; the redacted text stays
            pass
    return printable(shown)
