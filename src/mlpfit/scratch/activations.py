"""Activation functions and their derivatives, for NumPy arrays (float64).

A layer computes h = f(z) where z = x·Wᵀ + b is the "pre-activation". Backpropagation needs
f'(z) to pass the error backwards through f: dL/dz = dL/dh * f'(z) (element by element).
So every activation here is a pair (f, df), both taking the pre-activation z.

The definitions match PyTorch's defaults (nn.GELU is the exact erf form, nn.ELU has alpha 1,
nn.LeakyReLU has slope 0.01, nn.Softplus has beta 1 and threshold 20), so a network trained
here and a network trained with torch compute the same function.
"""

# Deferred imports: scipy.special loads only for gelu, the one activation that needs it.
import math

import numpy as np

from mlpfit.errors import UsageError


def _erf(z):
    """The error function, element-wise: scipy's vectorized C when it is installed, else math.erf per value.

    scipy is imported on first use (only gelu needs it): importing scipy.special costs more than
    a whole `mlpfit predict` of a tanh net.
    """
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        return np.vectorize(math.erf, otypes=[np.float64])(z)
    return erf(z)


SQRT2 = math.sqrt(2.0)
SQRT2PI = math.sqrt(2.0 * math.pi)


# --- identity: the output layer of a regression net, f(z) = z -------------------------------
def identity(z):
    return z


def identity_grad(z):
    return np.ones_like(z)


# --- relu: max(0, z); its slope is 1 where z > 0 and 0 elsewhere (torch also says 0 at z = 0)
def relu(z):
    return np.maximum(z, 0.0)


def relu_grad(z):
    return (z > 0).astype(z.dtype)


# --- leaky relu: like relu, but a small slope 0.01 for z <= 0 so no neuron goes quite dead ---
LEAKY_SLOPE = 0.01


def leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_grad(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE)


# --- sigmoid: σ(z) = 1 / (1 + e^-z), the lesson's squashing function; σ' = σ (1 - σ) --------
def sigmoid(z):
    with np.errstate(over="ignore"):  # e^-z overflows to inf for z << 0, and 1/inf = 0 is right
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)


# --- tanh: (e^z - e^-z) / (e^z + e^-z), a sigmoid centred on 0; tanh' = 1 - tanh² ----------
def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    return 1.0 - np.tanh(z) ** 2


# --- gelu: z·Φ(z) with Φ the standard normal CDF; by the product rule gelu' = Φ(z) + z·φ(z) --
def _normal_cdf(z):
    return 0.5 * (1.0 + _erf(z / SQRT2))


def _normal_pdf(z):
    return np.exp(-0.5 * z * z) / SQRT2PI


def gelu(z):
    return z * _normal_cdf(z)


def gelu_grad(z):
    return _normal_cdf(z) + z * _normal_pdf(z)


# --- silu (swish): z·σ(z); product rule: σ + z·σ(1-σ) = σ (1 + z (1 - σ)) -------------------
def silu(z):
    return z * sigmoid(z)


def silu_grad(z):
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


# --- elu: z for z > 0, e^z - 1 below (alpha 1): smooth where relu has a corner ---------------
def elu(z):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))  # min() keeps exp from overflowing


def elu_grad(z):
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))


# --- softplus: log(1 + e^z), a smooth relu; its derivative is exactly σ(z) -------------------
SOFTPLUS_THRESHOLD = 20.0  # like torch: above it softplus(z) is z to double precision


def softplus(z):
    return np.where(z > SOFTPLUS_THRESHOLD, z, np.log1p(np.exp(np.minimum(z, SOFTPLUS_THRESHOLD))))


def softplus_grad(z):
    return np.where(z > SOFTPLUS_THRESHOLD, 1.0, sigmoid(z))


# The registry: name -> (f, f'). The list of valid names is its keys.
ACTIVATIONS = {
    "relu": (relu, relu_grad),
    "tanh": (tanh, tanh_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "gelu": (gelu, gelu_grad),
    "silu": (silu, silu_grad),
    "elu": (elu, elu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "softplus": (softplus, softplus_grad),
    "identity": (identity, identity_grad),
}


def get_activation(name):
    """Return the pair (f, f') registered under ``name``; a clear error for anything else."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise UsageError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
