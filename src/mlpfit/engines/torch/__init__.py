"""mlpfit.engines.torch."""
