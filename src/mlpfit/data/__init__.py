"""Datasets: the sources a TARGET names (formula, CSV table, IDX images, examples), their checks, splits and
scaling.
"""
