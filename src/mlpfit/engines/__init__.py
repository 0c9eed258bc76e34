"""Engines: a model of K ≥ 1 members, its optimizer and data, behind the trainer's protocol.

* ``torch_single``  one torch MLP with any torch optimizer (L-BFGS included) and schedule.
* ``torch_stacked`` K members of one shape as one batched model (ensembles, sweeps).
* ``numpy_mlp``     mlpfit.scratch's hand-written forward and backward, K members, no torch.

mlpfit.train.trainer documents the protocol; every engine is checkpointed and resumed the same way.
"""
