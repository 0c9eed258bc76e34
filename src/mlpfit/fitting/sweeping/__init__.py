"""Hyperparameter sweeps: a grid, or Optuna trials, with same-shape settings trained as one fit.

plan (what to search) → batch (same-shape settings as the members of one fitting.fit) → trials (Optuna,
shared storages: storage, heartbeat; ownership ties a stored study to its target and data) → run (one
process, N workers, or --show) → best (refit into <out>/best) and results (what is shown and written).
workers runs local processes for ``--workers N``.
"""
