"""Heartbeats for a worker that asks and tells trials in batches.

Optuna sends heartbeats only inside ``study.optimize``; a sweep trains several trials at once
between ``ask`` and ``tell``, so it beats for them itself: a background thread records a heartbeat
for each trial this worker is training, every interval, and also fails the trials of workers that
stopped beating (which re-queues them through the storage's retry callback). A storage without
heartbeats (memory, journal file) gets a Heartbeat that does nothing.
"""

# Deferred imports: optuna loads inside the functions that use it, so option errors answer fast.

from __future__ import annotations

import threading


class Heartbeat:
    """``with Heartbeat(study, storage) as beat: beat.watch(trial) ... beat.forget(trials)``."""

    def __init__(self, study, storage):
        get_interval = getattr(storage, "get_heartbeat_interval", None)
        self.interval = get_interval() if get_interval else None
        self.study, self.storage = study, storage
        self.trial_ids: dict[int, int] = {}  # trial number -> trial id, the trials this worker trains
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="mlpfit-heartbeat", daemon=True)
        if self.enabled:
            self.study_id = storage.get_study_id_from_name(study.study_name)

    @property
    def enabled(self) -> bool:
        return self.interval is not None

    def __enter__(self):
        if self.enabled:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def watch(self, trial) -> None:
        """Beat for a trial from now on; the first beat at once, so it is never a running trial without one."""
        if not self.enabled:
            return
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)
        self.storage.record_heartbeat(trial_id)
        with self.lock:
            self.trial_ids[trial.number] = trial_id

    def forget(self, trials) -> None:
        with self.lock:
            for trial in trials:
                self.trial_ids.pop(trial.number, None)

    def fail_stale(self) -> None:
        """Mark other workers' silent trials failed; the retry callback queues each again."""
        if self.enabled:
            import optuna

            optuna.storages.fail_stale_trials(self.study)

    def wait(self) -> None:
        """Sleep one interval (a worker waiting for others' trials to finish or go stale)."""
        self.stopped.wait(self.interval or 1)

    def _beat(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.lock:
                    ids = list(self.trial_ids.values())
                for trial_id in ids:
                    self.storage.record_heartbeat(trial_id)
                self.fail_stale()
            except Exception:  # a database hiccup must not end the heartbeat; the next beat tries again
                continue
