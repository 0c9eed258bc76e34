"""An MLP whose parameters live in ONE flat buffer: forward and backward into preallocated arrays.

mlpfit.scratch is the readable reference (a dict of float64 arrays, fresh arrays every step). This
is the same network written for speed on small nets, where numpy's per-call overhead and
allocations cost as much as the arithmetic:

* the parameters are one flat vector (float32 by default); each layer's weight [out, in] and bias
  [out] are views into it, so an optimizer updates all of them with a handful of vectorized calls;
  the gradient is one flat vector of the same layout;
* K members of one shape (an ensemble) are one [K, P] array of such vectors, and every step is one
  batched product per layer for all of them (layers of shape [K, out, in]): numpy's per-call
  overhead is paid once per step, not once per member;
* every intermediate (pre-activations z, activations h, the backward errors) lives in a
  :class:`Workspace` made once per batch size and reused by every step; ``np.matmul(..., out=)``
  and in-place activation derivatives write into it;
* the bias gradient is ``ones · delta`` (a BLAS call) rather than a reduction over axis 0.

The chain rule is scratch/network.py's; dropout is torch's ``nn.functional.dropout`` (inverted:
kept activations are scaled by 1/(1-p)) after every hidden activation, in training only.
"""

from __future__ import annotations

import math

import numpy as np

from mlpfit.engines.numpy.activations import ACTIVATIONS, IN_PLACE
from mlpfit.errors import UsageError


class Layout:
    """Where each layer's weight and bias sit in the flat vector.

    Layers above the first: torch's order, the weight [out, in] then the bias [out]. The first
    layer is one [out, in + 1] block whose last column is the bias: its input is data, which can
    carry a column of ones, so z = [x, 1]·blockᵀ adds the bias inside the matrix product and
    deltaᵀ·[x, 1] gives the bias gradient with the weight gradient (two calls fewer per step).
    """

    def __init__(self, sizes):
        self.sizes = [int(s) for s in sizes]
        if len(self.sizes) < 2 or any(s <= 0 for s in self.sizes):
            raise UsageError(f"layer sizes must be at least [in, out], all > 0, got {self.sizes}")
        self.slots, offset = [], 0  # (start, shape of the weight [out, in], or of the first layer's block)
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            self.slots.append((offset, (fan_out, fan_in + 1) if i == 0 else (fan_out, fan_in)))
            offset += fan_out * fan_in + fan_out
        self.size = offset

    @property
    def names(self) -> list[str]:
        return [f"layers.{i}.{part}" for i in range(len(self.slots)) for part in ("weight", "bias")]

    @property
    def weight_mask(self) -> np.ndarray:
        """True where the flat vector holds a weight (the L2 term's entries), False on biases."""
        mask = np.zeros(self.size, dtype=bool)
        for weight, _, _ in self.views(mask):
            weight[...] = True
        return mask

    def views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """(weight [out, in], bias [out], the first layer's [out, in + 1] block or None) per layer: views
        into ``flat`` (writing them writes it). ``flat`` [K, P] (K members) gives [K, out, in], [K, out], ..."""
        lead = flat.shape[:-1]
        layers = []
        for i, (start, (out, columns)) in enumerate(self.slots):
            if i == 0:
                block = flat[..., start : start + out * columns].reshape(*lead, out, columns)
                layers.append((block[..., :-1], block[..., -1], block))
            else:
                end = start + out * columns
                layers.append((flat[..., start:end].reshape(*lead, out, columns), flat[..., end : end + out], None))
        if any(not np.may_share_memory(part, flat) for layer in layers for part in layer[:2]):
            raise ValueError("the parameters must be one array whose rows are members' flat vectors")
        return layers

    def to_dict(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """torch's state-dict names → copies of the arrays."""
        out = {}
        for i, (weight, bias, _) in enumerate(self.views(flat)):
            out[f"layers.{i}.weight"], out[f"layers.{i}.bias"] = weight.copy(), bias.copy()
        return out

    def from_dict(self, params: dict, flat: np.ndarray, what: str = "parameters") -> None:
        """Write a name → array dict into ``flat``, after checking it has exactly this net's names and shapes."""
        if not isinstance(params, dict) or set(params) != set(self.names):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"{what} name {got}, the model has {self.names}")
        for i, (weight, bias, _) in enumerate(self.views(flat)):
            for name, target in ((f"layers.{i}.weight", weight), (f"layers.{i}.bias", bias)):
                value = np.asarray(params[name])
                if value.shape != target.shape or not np.issubdtype(value.dtype, np.number):
                    raise ValueError(f"{what} {name} has shape {value.shape} ({value.dtype}), "
                                     f"the model's is {target.shape}")
                target[...] = value


class Workspace:
    """Every array one forward + backward of ``n`` rows writes, allocated once; ``lead`` is (K,) for K
    members (each array [K, n, width]) or () for one net."""

    def __init__(self, n: int, sizes: list[int], dtype, dropout: bool, lead: tuple = ()):
        widths = sizes[1:]
        self.z = [np.empty((*lead, n, w), dtype) for w in widths]  # pre-activations
        self.h = [np.empty((*lead, n, w), dtype) for w in widths]  # activations (z itself for IN_PLACE ones)
        self.dh = [np.empty((*lead, n, w), dtype) for w in widths]  # dL/dh, turned into dL/dz in place
        self.e = np.empty((*lead, n, widths[-1]), dtype)  # the loss's per-element values
        most = math.prod(lead) * n * max(widths)
        scratch = (np.empty(most, dtype), np.empty(most, dtype))
        self.tmp = [tuple(s[: math.prod(lead) * n * w].reshape(*lead, n, w) for s in scratch)
                    for w in widths]  # two per layer, shared memory
        self.ones = np.ones(n, dtype)
        self.x = np.ones((n, sizes[0] + 1), dtype)  # the inputs with a column of ones (the first layer's bias)
        hidden = widths[:-1] if dropout else []
        self.mask = [np.empty((*lead, n, w), dtype) for w in hidden]  # kept / (1-p), or 0
        self.dropped = [np.empty((*lead, n, w), dtype) for w in hidden]  # h · mask: the next layer's input
        self.inputs = [None] * len(widths)  # each layer's input in the last forward
        columns = [sizes[0] + 1, *widths[:-1]]  # the first layer's block has the bias column
        # each layer's weights transposed into contiguous [in, out] copies: x·Wᵀ with Wᵀ a strided view
        # takes BLAS's transposed path, which at these sizes ran 1.3-1.9x slower than the copy and its product
        self.transposed = [np.empty((*lead, c, w), dtype) for c, w in zip(columns, widths)]
        self.members = math.prod(lead)
        # per layer above the first: how add_bias adds its bias to z (BiasRows), or None where no grouping fits
        self.bias_rows = [None, *(BiasRows.fitting(z) for z in self.z[1:])]
        self.masked = False  # the last forward drew dropout masks


TILE_VALUES = 256  # BiasRows groups z's rows up to this many values: numpy's loop over a broadcast row of 32
# ran 1.5x slower than over 256 (32 members' 2-32-32-1 bias add: 48-51 µs against 73-76)


class BiasRows:
    """z [.., n, width] seen as [.., n / r, r·width] (r rows side by side) and a buffer for the bias repeated r
    times: ``z += bias`` as the same sums in inner loops r times longer."""

    def __init__(self, z: np.ndarray, r: int):
        *lead, n, width = z.shape
        self.grouped = z.view()
        self.grouped.shape = (*lead, n // r, r * width)  # a view of z (an error, never a silent copy)
        self.tile = np.empty((*lead, r * width), z.dtype)
        self.copies = self.tile.reshape(*lead, r, width)  # the tile as r rows: the bias is copied into each
        self.rows = self.tile[..., None, :]

    @classmethod
    def fitting(cls, z: np.ndarray):
        """For r the largest divisor of z's rows with r·width up to TILE_VALUES; None when that is 1 (wide layers,
        a prime row count: the plain broadcast is as good)."""
        n, width = z.shape[-2:]
        r = max((r for r in range(1, TILE_VALUES // width + 1) if n % r == 0), default=1)
        return cls(z, r) if r > 1 else None

    def add(self, bias: np.ndarray) -> None:
        np.copyto(self.copies, bias[..., None, :])
        self.grouped += self.rows


def add_bias(z: np.ndarray, bias: np.ndarray, rows: BiasRows | None) -> None:
    """z += bias on every row of z [.., n, width], through ``rows`` (made for this z) where one fits."""
    if rows is None:
        z += bias[..., None, :]
    else:
        rows.add(bias)


class FlatMLP:
    """The network's shape, activations and per-batch-size workspaces; parameters are passed in as views."""

    def __init__(self, sizes, activation="tanh", output_activation="identity", dropout=0.0, dtype=np.float32):
        self.layout = Layout(sizes)
        self.sizes, self.dtype = self.layout.sizes, np.dtype(dtype)
        for name in (activation, output_activation):
            if name not in ACTIVATIONS:
                raise UsageError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
        count = len(self.sizes) - 1
        self.names = [activation] * (count - 1) + [output_activation]
        self.functions = [ACTIVATIONS[name] for name in self.names]
        self.dropout = float(dropout)
        self.keep_scale = 0.0 if self.dropout >= 1 else 1.0 / (1.0 - self.dropout)
        self.workspaces: dict[tuple, Workspace] = {}
        self.last = None  # the workspace of the last forward (backward reads it)

    def workspace(self, n: int, lead: tuple = ()) -> Workspace:
        ws = self.workspaces.get((lead, n))
        if ws is None:
            ws = self.workspaces[(lead, n)] = Workspace(n, self.sizes, self.dtype, self.dropout > 0, lead)
            for i, name in enumerate(self.names):
                if name in IN_PLACE:
                    ws.h[i] = ws.z[i]  # h = f(z) overwrites z (identity: nothing to compute)
        return ws

    def forward(self, layers, X: np.ndarray, rng=None) -> np.ndarray:
        """The outputs [n, out], or [K, n, out] for K members' layers (a workspace array, valid until the next
        forward of n rows). ``X``: inputs [n, in], or [n, in + 1] already ending with a column of ones (no
        copy then), shared by every member; or [K, n, in + 1], each member's own rows.
        ``rng``: training, dropout masks drawn from it (one generator per member for K members; None:
        evaluation, no dropout)."""
        lead = layers[0][2].shape[:-2]
        ws = self.last = self.workspace(X.shape[-2], lead)
        ws.masked = rng is not None and self.dropout > 0
        if X.shape[-1] == self.sizes[0]:
            ws.x[:, :-1] = X
            X = ws.x
        last = len(layers) - 1
        h = ws.inputs[0] = X
        np.matmul(X, self.transpose(ws, 0, layers[0][2]), out=ws.z[0])  # z = [x, 1]·[W, b]ᵀ = x·Wᵀ + b
        for i, (weight, bias, _) in enumerate(layers):
            z = ws.z[i]
            if i:
                ws.inputs[i] = h
                np.matmul(h, self.transpose(ws, i, weight), out=z)  # z = h·Wᵀ + b
                add_bias(z, bias, ws.bias_rows[i])
            h = ws.h[i]
            if self.names[i] != "identity":
                self.functions[i][0](z, h, ws.tmp[i][0])
            if ws.masked and i < last:
                h = self.drop(ws, i, h, rng)
        return h

    @staticmethod
    def transpose(ws: Workspace, i: int, weight: np.ndarray) -> np.ndarray:
        """Wᵀ [.., in, out] of layer i: a contiguous copy in the workspace, or the view where W has one row
        (its transpose is already contiguous)."""
        if weight.shape[-2] == 1:
            return weight.swapaxes(-1, -2)
        np.copyto(ws.transposed[i], weight.swapaxes(-1, -2))
        return ws.transposed[i]

    def drop(self, ws: Workspace, i: int, h: np.ndarray, rng) -> np.ndarray:
        """Inverted dropout: each unit kept with probability 1-p and scaled by 1/(1-p), else 0."""
        mask = ws.mask[i]
        generators = rng if isinstance(rng, (list, tuple)) else [rng]  # K members: each its own generator
        masks = mask if isinstance(rng, (list, tuple)) else [mask]
        for generator, member_mask in zip(generators, masks):
            if self.dtype == np.float32:
                generator.random(dtype=np.float32, out=member_mask)
                np.greater_equal(member_mask, self.dropout, out=member_mask)
            else:  # the same float32 draws, so a float64 fit of a seed drops the units its float32 fit drops
                np.greater_equal(generator.random(member_mask.shape, dtype=np.float32), self.dropout, out=member_mask)
        mask *= self.keep_scale
        np.multiply(h, mask, out=ws.dropped[i])
        return ws.dropped[i]

    def output_grad(self) -> np.ndarray:
        """Where the loss writes dL/dy for backward (the last layer's dL/dh buffer)."""
        return self.last.dh[-1]

    def loss_elements(self) -> np.ndarray:
        return self.last.e

    def backward(self, layers, grads) -> None:
        """dL/dW and dL/db of every layer into ``grads`` (views like ``layers``), from dL/dy in output_grad()."""
        ws = self.last
        for i in range(len(layers) - 1, -1, -1):
            delta = ws.dh[i]
            if ws.masked and i < len(layers) - 1:
                delta *= ws.mask[i]  # through the dropout: dL/dh = dL/d(h·mask) · mask
            self.functions[i][1](ws.z[i], ws.h[i], delta, *ws.tmp[i])  # dL/dz = dL/dh · f'(z)
            weight_grad, bias_grad, block_grad = grads[i]
            deltaT = delta.swapaxes(-1, -2)
            if i == 0:  # deltaᵀ·[x, 1]: dL/dW and, in the last column, dL/db = Σ_rows delta
                np.matmul(deltaT, ws.inputs[0], out=block_grad)
                break
            np.matmul(deltaT, ws.inputs[i], out=weight_grad)  # dL/dW = deltaᵀ · h_prev
            np.matmul(ws.ones, delta, out=bias_grad)  # dL/db = Σ_rows delta
            weight = layers[i][0]
            if weight.shape[-2] == 1 and ws.members > 1:  # one output: delta · W is an outer product (BLAS is
                # slow at k = 1), and for several members einsum's loop over the rows ran 1.4x faster than
                # the broadcast multiply's over 32-wide rows (the same products: bit for bit the same)
                np.einsum("...b,...j->...bj", delta[..., 0], weight[..., 0, :], out=ws.dh[i - 1])
            elif weight.shape[-2] == 1:
                np.multiply(delta, weight, out=ws.dh[i - 1])
            else:
                np.matmul(delta, weight, out=ws.dh[i - 1])  # dL/dh_prev = delta · W

    @staticmethod
    def chunk_rows(members: int, budget: int = 4096) -> int:
        """Rows per chunk of predict for ``members`` members: their workspaces hold as many values as one net's."""
        return max(64, budget // members)

    def predict(self, layers, X: np.ndarray, rows: int | None = None) -> np.ndarray:
        """Outputs for any number of rows [n, out] (or [K, n, out] for K members' layers), a fresh array, in
        chunks of ``rows`` rows (default: chunk_rows of these members) so the workspaces stay small."""
        lead = layers[0][2].shape[:-2]
        out = np.empty((*lead, len(X), self.sizes[-1]), self.dtype)
        chunk = rows or self.chunk_rows(math.prod(lead))
        for start in range(0, len(X), chunk):
            part = np.ascontiguousarray(X[start : start + chunk], dtype=self.dtype)
            out[..., start : start + len(part), :] = self.forward(layers, part)
        return out
