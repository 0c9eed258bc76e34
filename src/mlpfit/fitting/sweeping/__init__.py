"""Hyperparameter sweeps: a grid, or Optuna trials, with same-shape settings trained as one batch.

settings (what to search) → batch (train same-shape settings together) → trials (Optuna, shared
storages: storage, heartbeat) → run (one process, N workers, or --show) → best (refit into
<out>/best) and table (what is shown and written). workers runs local processes for ``--workers N``.
"""
