"""One page's training: a background thread running the one fit function (``mlpfit.fitting.fit.fit``), watched and steered.

The page reads what happened through :meth:`Session.update`, which returns only what changed
since its last call (new loss rows, the newest snapshot, diagnostics, state). Save writes a normal
run folder with the library's writer, so `mlpfit predict`, `explain` and `report` read it.
"""

# Deferred imports: the report (matplotlib) loads only when a run is saved.

from __future__ import annotations

import itertools
import os
import sys
import threading
import traceback

from mlpfit.api import Result
from mlpfit.errors import MlpfitError, UsageError
from mlpfit.fitting.fit import fit
from mlpfit.fitting.summary import split_samples
from mlpfit.interrupt import Interrupted
from mlpfit.play import problem
from mlpfit.play.live import Control, Live
from mlpfit.play.settings import Settings, command
from mlpfit.play.snapshot import final_metric
from mlpfit.play.view import View
from mlpfit.play.wire import dumps
from mlpfit.runfolder import store as runs

# Building a torch model seeds torch's global generator (restored after the fit): two pages starting at once
# would swap seeds.
# The lock is held from the start of a fit until its model exists (Live's on_begin).
BUILD_LOCK = threading.Lock()
# Plots are drawn with matplotlib, whose pyplot state is shared by all threads.
SAVE_LOCK = threading.Lock()
FINISHED = ("done", "stopped", "error")
SESSION_IDS = itertools.count(1)


class Session:
    def __init__(self, settings: Settings, runs_dir: str):
        """Load the data at once, so a refused formula or table is answered by the request itself."""
        self.settings, self.config, self.runs_dir = settings, settings.config, runs_dir
        self.id = next(SESSION_IDS)
        self.view = View(problem.load(settings), self.config)
        self.control = Control()
        self.changed = threading.Condition()
        self.version = 0
        self.state, self.error = "ready", None
        self.rows, self.snapshot, self.snapshot_id = [], None, 0
        self.snapshot_text = "null"  # the snapshot as JSON, made once in the training thread (its cost is throttled)
        self.diagnostics: list[dict] = []
        self.result, self.final, self.saved = None, None, None
        self.thread: threading.Thread | None = None
        self.live: Live | None = None
        self.save_lock = threading.Lock()

    # ------------------------------------------------------------------ control from the page

    def start(self, paused: bool = False, steps: int = 0) -> None:
        if self.thread is not None:
            self.control.set(paused=paused, steps=steps)
            return
        self.control = Control(paused=paused, steps=steps)
        self.publish(state="running")
        self.thread = threading.Thread(target=self._train, name="mlpfit-play-train", daemon=True)
        self.thread.start()

    def pause(self) -> None:
        self.control.set(paused=True)

    def step(self) -> None:
        """One more epoch, then pause (also from a fresh page: train one epoch and wait)."""
        if self.thread is None:
            self.start(paused=True, steps=1)
        else:
            self.control.set(paused=True, steps=1)

    def stop(self) -> None:
        self.control.set(stopped=True)

    @property
    def stop_requested(self) -> bool:
        return self.control.stopped

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the training thread; True when it has ended (or never started)."""
        if self.thread is not None:
            self.thread.join(timeout)
            return not self.thread.is_alive()
        return True

    # ------------------------------------------------------------------ the training thread

    def _train(self) -> None:

        held = BUILD_LOCK.acquire()

        def release():
            nonlocal held
            if held:
                held = False
                BUILD_LOCK.release()

        self.live = Live(self, on_begin=release)
        try:
            result = fit(self.config, dataset=self.view.dataset, callbacks=[self.live], save=False)
            self._finish(result)
        except Interrupted:
            self.publish(state="stopped")
        except MlpfitError as err:
            self.publish(state="error", error=str(err))
        except Exception as err:  # a bug: the page says so, the server keeps serving
            traceback.print_exc(file=sys.stderr)
            self.publish(state="error", error=f"unexpected {type(err).__name__}: {err} (a bug in mlpfit play)")
        finally:
            release()

    def _finish(self, result) -> None:
        summary = result.summary
        summary["seconds"] = round(max(0.0, summary["seconds"] - self.live.paused_seconds), 4)
        self.result = result
        epoch = result.history.best_epoch or result.history.epochs
        picture = self.live.snapshots.take(result.fitted, epoch)  # the kept (best) weights
        picture["metric"] = final_metric(summary)
        self.final = {"metric": picture["metric"], "seconds": summary["seconds"], "epochs": summary["epochs"],
                      "best_epoch": result.history.best_epoch, "stopped_early": summary["stopped_early"],
                      "parameters": summary["parameters"], "notes": summary["notes"],
                      "snapshot_seconds": round(self.live.snapshot_seconds, 4)}
        self.publish(snapshot=picture, diagnostics=summary["diagnostics"], replace_diagnostics=True,
                     state="stopped" if self.stop_requested else "done")

    # ------------------------------------------------------------------ what the page reads

    def publish(self, *, state=None, error=None, row=None, snapshot=None, diagnostics=None,
                replace_diagnostics=False) -> None:
        """Record what happened and wake the streams; ``replace_diagnostics``: the summary's final list."""
        text = None if snapshot is None else dumps(snapshot)
        with self.changed:
            if replace_diagnostics:
                self.diagnostics = []
            if row is not None:
                self.rows.append(row)
            if snapshot is not None:
                self.snapshot, self.snapshot_text, self.snapshot_id = snapshot, text, self.snapshot_id + 1
            for found in diagnostics or ():
                if found["code"] not in {d["code"] for d in self.diagnostics}:
                    self.diagnostics.append(found)
            if state is not None:
                self.state, self.error = state, error
            self.version += 1
            self.changed.notify_all()

    def update(self, cursor: dict) -> dict | None:
        """What changed since ``cursor`` (a dict the caller keeps), or None; advances the cursor."""
        with self.changed:
            if cursor.get("version") == self.version and cursor.get("session") == self.id:
                return None
            if cursor.get("session") != self.id:  # a new training: the page starts over
                cursor.clear()
                cursor.update(session=self.id, rows=0, snapshot=0, diagnostics=0)
            message = {"state": self.state, "error": self.error, "epochs": self.config.train.epochs,
                       "rows": self.rows[cursor["rows"]:], "settings": self.settings.values}
            if "setup" not in cursor:
                message["setup"] = self.view.setup(self.config.model.hidden)
                cursor["setup"] = True
            if self.snapshot_id != cursor["snapshot"]:
                message["snapshot"] = self.snapshot
            message["diagnostics"] = self.diagnostics
            if self.state in FINISHED:
                message["final"] = self.final
            cursor.update(version=self.version, rows=len(self.rows), snapshot=self.snapshot_id)
            return message

    def update_text(self, cursor: dict) -> str | None:
        """:meth:`update` as JSON text, with the snapshot's text as the training thread made it."""
        with self.changed:
            message = self.update(cursor)
            if message is None:
                return None
            snapshot = message.pop("snapshot", None) is not None
            text = dumps(message)
            return f'{text[:-1]}, "snapshot": {self.snapshot_text}}}' if snapshot else text

    # ------------------------------------------------------------------ save

    def save(self) -> dict:
        """Write the finished run as a run folder under --runs (once) and say how to redo it."""
        with self.save_lock:
            if self.saved is None:
                self.saved = self._write()
            return self.saved

    def _write(self) -> dict:
        from mlpfit.report.html import write_report

        if self.result is None:
            raise UsageError("nothing to save yet: press Start and wait until the status says done")
        r = self.result
        name = r.dataset.name if self.settings.upload else self.settings.target
        path = runs.default_run_dir(name, root=self.runs_dir)
        samples = split_samples(r.dataset, r.split, r.config.train.seed)
        with SAVE_LOCK:
            Result(r.config, r.fitted, r.history, r.summary, samples=samples).save(path)
            write_report(path)
        folder = os.path.basename(path)
        return {"run": folder, "path": path, "command": command(self.settings),
                "report": f"/runs/{folder}/report.html"}
