"""Engines: a model of K ≥ 1 members, its optimizer and data, behind the trainer's protocol.

* ``torch_single``  one torch MLP with any torch optimizer (L-BFGS included) and schedule.
* ``torch_stacked`` K members of one shape as one batched model (ensembles, sweeps).
* ``numpy_mlp``     K members on the CPU without torch: flat_net (one float32 buffer per member,
                    preallocated workspaces), flat_optim and flat_losses; mlpfit.scratch is its readable reference.

mlpfit.train.trainer documents the protocol; every engine is checkpointed and resumed the same way.
"""
