"""The trained network as one NumPy value (:class:`Network`), its chain-rule gradient, layer sizes and the
equation a linear network reads as: what every engine returns and every reader takes."""

from mlpfit.network.network import Network

__all__ = ["Network"]
