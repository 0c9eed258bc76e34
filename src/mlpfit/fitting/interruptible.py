"""Training that Ctrl-C (or SIGTERM) stops cleanly: after the current step, with a checkpoint saved.

Resume is exact whatever the engine: the checkpoint holds the trainer's whole state (engine
weights and optimizer, random generators as they were at the start of the interrupted epoch,
callbacks, history), and the engine replays that epoch's shuffle, skipping the steps already done.
"""

from __future__ import annotations

import sys

from mlpfit.config.schema import FitConfig
from mlpfit.errors import RunFolderError, quoted_error
from mlpfit.interrupt import Interrupted, stop_signals
from mlpfit.runfolder import checkpoint
from mlpfit.train.trainer import Trainer


def run(trainer: Trainer, config: FitConfig, run_dir: str | None, state: dict | None = None):
    """``trainer.run()`` that stops cleanly on SIGINT/SIGTERM, saving a checkpoint to ``run_dir``."""
    if state is not None:
        restore(trainer, state, checkpoint.folder(run_dir) if run_dir else "the checkpoint")
    with stop_signals() as request:
        trainer.should_stop = lambda: request.requested
        if run_dir is not None and not (config.run.quiet or config.run.json):  # --json: stderr stays clean
            print(f"mlpfit: training {config.train.epochs} epochs; Ctrl-C stops after the current step and saves "
                  "a checkpoint", file=sys.stderr, flush=True)
        history = trainer.run()
        if trainer.interrupted:
            stop(trainer, config, run_dir, request.signal_name)
    return history


def restore(trainer: Trainer, state: dict, where: str) -> None:
    """Put a freshly built trainer (same config, same data) into the saved state, or refuse in one line."""
    try:
        trainer.load_state_dict(state["trainer"])
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError) as err:
        # Checksums matched, so this is a checkpoint from another mlpfit or an edited one: say so plainly.
        first = quoted_error(err)
        raise RunFolderError(f"{where} does not fit this model and optimizer ({first}): start a new fit") from None


def stop(trainer: Trainer, config: FitConfig, run_dir: str | None, signal_name: str) -> None:
    where = f"epoch {trainer.epoch} of {trainer.epochs}, step {trainer.engine.step}"
    if run_dir is None:
        raise Interrupted(f"interrupted by {signal_name} at {where}; nothing saved (no run folder)")
    checkpoint.save(run_dir, {"config": config.to_dict(), "trainer": trainer.state_dict()})
    raise Interrupted(f"interrupted by {signal_name} at {where}; checkpoint saved in {checkpoint.folder(run_dir)}: "
                      f"resume with mlpfit fit --resume {run_dir}")
