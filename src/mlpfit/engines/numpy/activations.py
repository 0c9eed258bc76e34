"""mlpfit's activations for the flat NumPy net: forward and chain rule, in place, into given buffers.

The same functions as mlpfit.scratch.activations (torch's definitions: exact-erf GELU, ELU with
alpha 1, LeakyReLU slope 0.01, Softplus beta 1 threshold 20), written for speed: every step runs
them on [batch, width] arrays, so nothing here allocates. Each activation is a pair

  forward(z, h, tmp)            h = f(z)                      (h may alias z: see IN_PLACE)
  backward(z, h, dh, tmp, tmp2) dh *= f'(z), in place         (dh becomes dL/dz)

where z is the pre-activation, h the activation's output and tmp, tmp2 scratch arrays of z's
shape. A derivative is taken from h where that is cheapest (tanh, sigmoid), else from z. backward may
overwrite z and h: the net has used them (the next layer's weight gradient) before it calls backward.
"""

# Deferred imports: scipy.special loads only for gelu, the one activation that needs it.

from __future__ import annotations

import math

import numpy as np

LEAKY_SLOPE = 0.01  # torch's nn.LeakyReLU default
SOFTPLUS_THRESHOLD = 20.0  # torch's nn.Softplus default: above it softplus(z) is z
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def erf(z, out):
    """scipy's vectorized erf (imported on first use: only gelu needs it, and it costs an import)."""
    from scipy.special import erf as scipy_erf

    return scipy_erf(z, out=out)


def sigmoid_into(z, out):
    """out = 1 / (1 + e^-z); e^-z overflows to inf for z << 0 and 1/inf = 0 is right (errstate ignores it)."""
    with np.errstate(over="ignore"):
        np.negative(z, out=out)
        np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


# --- identity ----------------------------------------------------------------------------------
def identity_forward(z, h, tmp):
    np.copyto(h, z)


def identity_backward(z, h, dh, tmp, tmp2):
    pass  # f' = 1


# --- relu: f' is 1 where z > 0, 0 elsewhere (torch says 0 at z = 0) ----------------------------
def relu_forward(z, h, tmp):
    np.maximum(z, 0.0, out=h)


def relu_backward(z, h, dh, tmp, tmp2):
    np.greater(z, 0.0, out=tmp)  # 1.0 / 0.0
    dh *= tmp


# --- leaky relu: slope 1 above 0, 0.01 below --------------------------------------------------
def leaky_relu_forward(z, h, tmp):
    np.minimum(z, 0.0, out=tmp)
    np.maximum(z, 0.0, out=h)
    tmp *= LEAKY_SLOPE
    h += tmp


def leaky_relu_backward(z, h, dh, tmp, tmp2):
    np.greater(z, 0.0, out=tmp)
    tmp *= 1.0 - LEAKY_SLOPE
    tmp += LEAKY_SLOPE
    dh *= tmp


# --- tanh: f' = 1 - tanh² = 1 - h² --------------------------------------------------------------
def tanh_forward(z, h, tmp):
    np.tanh(z, out=h)


def tanh_backward(z, h, dh, tmp, tmp2):
    # 1 - h² into h itself: no scratch array streamed through the cache (32 members' step: 53 µs a layer
    # against 67 µs through tmp)
    np.multiply(h, h, out=h)
    np.subtract(1.0, h, out=h)
    dh *= h


# --- sigmoid: f' = σ(1 - σ) = h(1 - h) --------------------------------------------------------
def sigmoid_forward(z, h, tmp):
    sigmoid_into(z, h)


def sigmoid_backward(z, h, dh, tmp, tmp2):
    np.subtract(1.0, h, out=tmp)
    tmp *= h
    dh *= tmp


# --- gelu (exact): z·Φ(z); f' = Φ(z) + z·φ(z) -------------------------------------------------
# Abramowitz & Stegun 7.1.26: erfc(x) ≈ t·(A1 + t·(A2 + t·(A3 + t·(A4 + t·A5))))·e^(-x²), t = 1/(1 + P·x),
# x ≥ 0, within 1.5e-7 of erf: below float32's own rounding of these few operations. scipy's erf took
# 240 µs on a 256x64 float32 batch (np.tanh: 9 µs), most of a deep GELU net's step.
ERFC_P = 0.3275911
ERFC_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def normal_cdf_into(z, out, scratch):
    """out = Φ(z) = (1 + erf(z/√2)) / 2; ``scratch`` is overwritten. float64 nets take scipy's exact erf."""
    if z.dtype != np.float32:
        np.multiply(z, INV_SQRT2, out=out)
        erf(out, out)
        out += 1.0
        out *= 0.5
        return out
    t = np.abs(z, out=scratch)
    t *= ERFC_P * INV_SQRT2
    t += 1.0
    np.reciprocal(t, out=t)
    np.multiply(t, ERFC_A[4], out=out)
    for a in ERFC_A[3::-1]:  # Horner: out = t·(A1 + t·(A2 + ...))
        out += a
        out *= t
    np.multiply(z, z, out=scratch)
    scratch *= -0.5
    np.exp(scratch, out=scratch)
    out *= scratch  # erfc(|z|/√2)
    out *= -0.5
    out += 0.5  # erf(|z|/√2) / 2
    np.copysign(out, z, out=out)
    out += 0.5
    return out


def gelu_forward(z, h, tmp):
    normal_cdf_into(z, h, tmp)
    h *= z


def gelu_backward(z, h, dh, tmp, tmp2):
    # Φ(z) = h / z: the forward pass computed it already (a division against erf's twenty calls);
    # where z is 0 the quotient is NaN and Φ(0) = 1/2 (the one small mask this module allocates).
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(h, z, out=tmp)
    np.copyto(tmp, 0.5, where=z == 0)
    np.multiply(z, z, out=tmp2)
    tmp2 *= -0.5
    np.exp(tmp2, out=tmp2)
    tmp2 *= INV_SQRT2PI
    tmp2 *= z  # z·φ(z)
    tmp += tmp2
    dh *= tmp


# --- silu: z·σ(z); f' = σ(1 + z(1 - σ)) = σ(1 + z - h) -----------------------------------------
def silu_forward(z, h, tmp):
    sigmoid_into(z, h)
    h *= z


def silu_backward(z, h, dh, tmp, tmp2):
    sigmoid_into(z, tmp)
    np.subtract(z, h, out=tmp2)
    tmp2 += 1.0
    tmp *= tmp2
    dh *= tmp


# --- elu (alpha 1): z above 0, e^z - 1 below; f' = e^min(z, 0) ---------------------------------
def elu_forward(z, h, tmp):
    np.minimum(z, 0.0, out=h)
    np.expm1(h, out=h)
    np.maximum(z, 0.0, out=tmp)
    h += tmp


def elu_backward(z, h, dh, tmp, tmp2):
    np.minimum(z, 0.0, out=tmp)
    np.exp(tmp, out=tmp)
    dh *= tmp


# --- softplus: log(1 + e^z), z itself above the threshold; f' = σ(z) (1 above it) ----------------
def softplus_forward(z, h, tmp):
    np.minimum(z, SOFTPLUS_THRESHOLD, out=h)
    np.exp(h, out=h)
    np.log1p(h, out=h)
    np.greater(z, SOFTPLUS_THRESHOLD, out=tmp)
    np.copyto(h, z, where=tmp.astype(bool))  # rare: a copy of the mask only where z is that large


def softplus_backward(z, h, dh, tmp, tmp2):
    sigmoid_into(z, tmp)
    np.greater(z, SOFTPLUS_THRESHOLD, out=tmp2)
    np.maximum(tmp, tmp2, out=tmp)  # 1 above the threshold (σ < 1 there)
    dh *= tmp


# Activations whose forward may write over z (h aliases z): their derivative needs only h (relu's
# z > 0 is h > 0), so keeping z as well would only spread the step's arrays over more cache.
IN_PLACE = {"identity", "relu", "tanh", "sigmoid"}

ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "gelu": (gelu_forward, gelu_backward),
    "silu": (silu_forward, silu_backward),
    "elu": (elu_forward, elu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "softplus": (softplus_forward, softplus_backward),
    "identity": (identity_forward, identity_backward),
}
