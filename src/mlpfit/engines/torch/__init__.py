"""The torch engine: one torch MLP with any torch optimizer (L-BFGS included), or K members of one shape as
one batched model; its modules, optimizers and checkpoint state stay in this package, and what leaves it is
NumPy (state.py)."""
