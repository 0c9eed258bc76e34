"""The readable NumPy MLP: forward and backward passes written out by hand (the NumPy engine,
mlpfit.engines.numpy.net, is the same arithmetic written for speed and tested against this).

No torch here. It exists to show what autograd does (the tests check it against torch to 1e-8)
and to train small nets without torch. Parameter names match torch's nn.Sequential of Linear
layers, so a run folder does not care which engine wrote it.
"""
from mlpfit.scratch.activations import ACTIVATIONS, get_activation
from mlpfit.scratch.network import backward, forward, init_params, mse_loss
from mlpfit.scratch.optim import OPTIMIZERS, SGD, Adam, make_optimizer
from mlpfit.scratch.train import fit, predict

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "backward",
    "fit",
    "forward",
    "get_activation",
    "init_params",
    "make_optimizer",
    "mse_loss",
    "predict",
]
