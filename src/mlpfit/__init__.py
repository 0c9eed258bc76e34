"""mlpfit: teach a multilayer perceptron a function, and see what it learned."""
__version__ = "0.1.0"
