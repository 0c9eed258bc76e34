"""What watching costs: a playground training streamed to a client vs the same fit with no one watching.

Both sides train the same model on the same data with the library's loop (mlpfit.fitting.fit.fit):
- quiet: no callback at all, as ``mlpfit fit --no-plots`` trains;
- live: a page's Session, with snapshots (fit, every unit, live R²) at most five times a second,
  read over HTTP by a server-sent-events client from a real uvicorn server in this process, as a
  browser would (JSON encoding and sending run in the server thread, beside the training).

    python benchmarks/play_overhead.py [--repeats 3] [--hidden 16,16] [--epochs 150]

Prints the training seconds each side reports (the loop's clock), their median ratio, the share of
the live side's time spent on snapshots, and the load average beside them: on a shared machine the
numbers are noisy, so the sides alternate and the median is taken. The issue's bar: live updates
slow training by at most about a fifth (ratio ≤ 1.2).

Measured 2026-12-02 on the 2-core dev box under load from other sessions (load average 5-6, so
single runs vary by ±30%; medians of 3-5 alternating runs):
  sin(3*x) on 16,16 (32 units), 150 epochs: wall 1.02x, process CPU 1.18x; snapshots 1.5% of the time.
  sin(2*x)*cos(2*y) on 64,64,64 (192 unit maps), 150 epochs: wall 1.11x, CPU 1.05x; snapshots 5.9%.
The snapshot's share is held under 10% by the throttle (live.MAX_SHARE) whatever the net's size;
the rest is the server sending about ten messages a second and this client reading them.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import tempfile
import threading
import time

import httpx

from mlpfit.fitting.fit import fit
from mlpfit.play.problem import load
from mlpfit.play.server import Background
from mlpfit.play.settings import parse


def quiet_seconds(query: dict, runs: str) -> tuple[float, float]:
    """(training seconds, process CPU seconds) of one fit nobody watches."""
    settings = parse(query, runs)
    dataset = load(settings)
    cpu = time.process_time()
    result = fit(copy.deepcopy(settings.config), dataset=dataset, save=False)
    return result.summary["seconds"], time.process_time() - cpu


def live_seconds(server: Background, query: dict, page: str) -> tuple[float, float, float, int]:
    """(training seconds, process CPU seconds, snapshot seconds, messages read) of one streamed training.

    The CPU time is the whole process's: the training, the server encoding and sending, and this
    client reading the lines (it parses only the last; a browser parses in its own process).
    """
    messages, done = [], threading.Event()

    def read():
        with httpx.stream("GET", f"{server.url}/api/events", params={"page": page}, timeout=None) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                messages.append(None)
                if '"final": {' in line or '"state": "error"' in line:  # parse only the last: a browser parses in its own process
                    messages[-1] = json.loads(line[6:])
                    done.set()
                    return

    reader = threading.Thread(target=read, daemon=True)
    cpu = time.process_time()
    reader.start()
    answer = httpx.post(f"{server.url}/api/start", json={"page": page, "settings": query}, timeout=60)
    answer.raise_for_status()
    done.wait(600)
    cpu = time.process_time() - cpu
    final = messages[-1]
    if final.get("state") != "done":
        raise RuntimeError(f"training ended as {final.get('state')}: {final.get('error')}")
    return final["final"]["seconds"], cpu, final["final"]["snapshot_seconds"], len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", default="sin(3*x)")
    parser.add_argument("--hidden", default="16,16")
    parser.add_argument("--samples", default="2000")
    parser.add_argument("--epochs", default="150")
    parser.add_argument("--batch-size", default="64")
    args = parser.parse_args()
    query = {"target": args.target, "hidden": args.hidden, "samples": args.samples, "epochs": args.epochs,
             "batch-size": args.batch_size}
    runs = tempfile.mkdtemp()
    server = Background(runs)
    quiet_seconds(query, runs)  # warm-up: torch's first steps are slow
    quiet, live, quiet_cpu, live_cpu, shares, counts = [], [], [], [], [], []
    try:
        for k in range(args.repeats):
            seconds, cpu = quiet_seconds(query, runs)
            quiet.append(seconds)
            quiet_cpu.append(cpu)
            seconds, cpu, snapshots, count = live_seconds(server, query, f"bench-page-{k:04d}")
            live.append(seconds)
            live_cpu.append(cpu)
            shares.append(snapshots / seconds)
            counts.append(count)
    finally:
        server.stop()
    q, l = statistics.median(quiet), statistics.median(live)
    qc, lc = statistics.median(quiet_cpu), statistics.median(live_cpu)
    print(f"{args.target} on {args.hidden}, {args.samples} samples, {args.epochs} epochs, batch {args.batch_size}")
    print(f"quiet (no one watching): {', '.join(f'{s:.2f}' for s in quiet)} s  median {q:.2f} s")
    print(f"live (streamed to a client): {', '.join(f'{s:.2f}' for s in live)} s  median {l:.2f} s")
    print(f"CPU seconds of the process: quiet {qc:.2f}, live {lc:.2f} (training, server, reading)")
    print(f"ratio live/quiet: wall {l / q:.3f}, CPU {lc / qc:.3f}; snapshots took {statistics.median(shares):.1%} of the live time; "
          f"{statistics.median(counts):.0f} messages per training")
    print(f"load average {os.getloadavg()[0]:.2f}, {os.getloadavg()[1]:.2f}, {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
