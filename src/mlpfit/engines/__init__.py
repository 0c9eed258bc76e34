"""Engines: a model of K >= 1 members, its optimizer and data, behind the trainer's protocol; the only
place torch is imported.

* ``numpy``  K members on the CPU without torch: net (one float32 buffer per member, preallocated
             workspaces), optim and losses; mlpfit.scratch is its readable reference.
* ``torch``  one torch MLP with any torch optimizer (L-BFGS included), or K members of one shape as one
             batched model; its modules, optimizers and checkpoint state stay inside.

mlpfit.train.trainer documents the protocol; every engine is checkpointed and resumed the same way, and every
engine's weights end as one :class:`mlpfit.network.Network`.
"""
