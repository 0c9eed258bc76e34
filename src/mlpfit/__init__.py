"""mlpfit: teach a multilayer perceptron a function, and see what it learned."""
import importlib

__version__ = "0.1.0"

# The public API, imported on first use so `import mlpfit` (and the CLI's --help) stays light:
# torch and scikit-learn load only when fit(), load() or an estimator is touched.
_LAZY = {"fit": "mlpfit.api", "load": "mlpfit.api", "Result": "mlpfit.api",
         "Regressor": "mlpfit.estimators", "Classifier": "mlpfit.estimators"}
__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlpfit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
