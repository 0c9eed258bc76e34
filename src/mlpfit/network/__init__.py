"""mlpfit.network."""
