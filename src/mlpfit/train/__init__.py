"""The training loop every engine runs under, its callbacks, optimizers, learning-rate schedules and
history.
"""
