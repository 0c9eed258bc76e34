"""N local worker processes, their events relayed to the parent, which shows them as one stream.

Each worker is a fresh process (multiprocessing's spawn: no forked torch or database
connections) running ``target(*args, send)``; ``send(kind, payload)`` puts an event on a queue
that the parent reads, so lines from different workers never interleave mid-line. A worker's
error becomes an event too and, after every worker has ended, the parent raises the first one
with its exit code. A worker killed from outside is reported and the others go on.
"""

from __future__ import annotations

import multiprocessing
import queue
import sys

from mlpfit.errors import MlpfitError

POLL_SECONDS = 0.5


class WorkerError(MlpfitError):
    """A worker's own error, carried to the parent with its exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def run_workers(n: int, target, args: tuple, on_event) -> list[str]:
    """Run n workers to the end; ``on_event(worker, kind, payload)`` for each event.

    Returns a line for each worker that was killed or crashed without saying why."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    names = [f"w{i}" for i in range(1, n + 1)]
    processes = [context.Process(target=child, args=(target, args, name, events), name=name, daemon=True)
                 for name in names]
    for process in processes:
        process.start()
    errors: list[tuple[str, int]] = []
    try:
        while any(p.is_alive() for p in processes):
            relay(events, on_event, errors, block=True)
        relay(events, on_event, errors, block=False)  # what the last ones sent before they ended
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
        raise
    for process in processes:
        process.join()
    if errors:
        raise WorkerError(*errors[0])
    return [f"worker {p.name} ended with exit code {p.exitcode}" for p in processes if p.exitcode != 0]


def relay(events, on_event, errors: list, block: bool) -> None:
    while True:
        try:
            name, kind, payload = events.get(timeout=POLL_SECONDS) if block else events.get_nowait()
        except queue.Empty:
            return
        if kind == "error":
            errors.append(payload)
        else:
            on_event(name, kind, payload)
        block = False  # drain what is there, then let the caller check who is still alive


def child(target, args: tuple, name: str, events) -> None:
    """In the worker process: run target, turn its errors into an event and an exit code."""
    def send(kind: str, payload=None) -> None:
        events.put((name, kind, payload))

    try:
        target(*args, send)
    except KeyboardInterrupt:
        sys.exit(130)
    except MlpfitError as err:
        send("error", (f"{name}: {err}", err.exit_code))
        sys.exit(err.exit_code)
    except Exception as err:  # a bug: one line, as cli.main says it
        send("error", (f"{name}: unexpected {type(err).__name__}: {err}", 1))
        sys.exit(1)
    finally:
        events.close()
        events.join_thread()  # the parent must get the last events before this process ends
