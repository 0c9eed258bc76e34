"""One fit for every kind of fit: prepare the data, build the engine, train, stop, summarize, diagnose; and
sweeps of many settings.
"""
