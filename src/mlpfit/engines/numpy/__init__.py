"""mlpfit.engines.numpy."""
