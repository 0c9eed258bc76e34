"""Genetic programming with Operon (``pip install "mlpfit[symbolic]"``): formula shapes a term library
cannot express (products, quotients, nested functions, free constants inside them).

Operon evolves expression trees with their constants tuned by Levenberg-Marquardt, and keeps a
Pareto front of accuracy against length; every tree on the front comes back as a sympy expression
over the run's inputs. A few short independent runs find more than one long one (a run that
settles on a wrong shape early seldom leaves it), so the budget is split into ``RESTARTS`` seeds.
Without pyoperon installed, ``available()`` is False and the readout keeps to the term library.
"""

# Deferred imports: pyoperon (optional) and sympy load inside the functions that use them.

from __future__ import annotations

import importlib.util

import numpy as np

from mlpfit.report.expression import symbols

SYMBOLS = "add,sub,mul,div,constant,variable,sin,cos,exp,log,sqrt,square"  # the grammar's common functions
RESTARTS = 3  # independent seeds per search
POPULATION = 500  # trees per generation
EVALUATIONS = 100_000  # fitness evaluations per seed: about 1-2 s for 500 rows of 1-4 inputs
MAX_LENGTH = 30  # nodes per tree: room for the laws of textbooks, not for a polynomial of degree 20
ROWS = 500  # samples a run sees: the network gives exact-looking values, and the cost grows with every row
SECONDS = 8  # wall-clock cap per seed


def available() -> bool:
    return importlib.util.find_spec("pyoperon") is not None


def search(X: np.ndarray, y: np.ndarray, names: list[str], seed: int = 0, restarts: int = RESTARTS,
           evaluations: int = EVALUATIONS, seconds: float = SECONDS) -> list:
    """The Pareto fronts of ``restarts`` Operon runs on (X, y) of at most ``seconds`` each, as sympy
    expressions over ``names``."""
    from pyoperon.sklearn import SymbolicRegressor

    rows = np.random.default_rng(seed).permutation(len(X))[:ROWS]
    found = []
    for k in range(restarts):
        regressor = SymbolicRegressor(
            allowed_symbols=SYMBOLS, objectives=["r2", "length"], max_length=MAX_LENGTH,
            population_size=POPULATION, generations=1000, max_evaluations=evaluations, optimizer_iterations=5,
            n_threads=1, random_state=seed * 1000 + k, max_time=max(1, int(seconds)))
        regressor.fit(X[rows], y[rows])
        variables = {hash_: names[int(name[1:]) - 1] for hash_, name in regressor.variables_.items()}
        for solution in regressor.pareto_front_:
            expr = tree_to_sympy(solution["tree"], variables)
            if expr is not None:
                found.append(expr)
    return found


def tree_to_sympy(tree, variables: dict):
    """An Operon tree (nodes in postfix order, a variable node carrying its weight) as sympy; None for
    a symbol outside the grammar."""
    import pyoperon
    import sympy

    kinds = pyoperon.NodeType
    by_name = dict(zip(variables.values(), symbols(list(variables.values()))))
    unary = {kinds.Exp: sympy.exp, kinds.Log: sympy.log, kinds.Sin: sympy.sin, kinds.Cos: sympy.cos,
             kinds.Sqrt: sympy.sqrt, kinds.Square: lambda a: a ** 2, kinds.Tan: sympy.tan, kinds.Tanh: sympy.tanh,
             kinds.Abs: sympy.Abs}
    stack = []
    for node in tree.Nodes:
        kind = node.Type
        if node.IsConstant:
            stack.append(sympy.Float(node.Value))
        elif node.IsVariable:
            stack.append(sympy.Float(node.Value) * by_name[variables[node.HashValue]])
        else:
            args = [stack.pop() for _ in range(node.Arity)]  # the child nearest its parent is the first operand
            if kind in unary and len(args) == 1:
                stack.append(unary[kind](args[0]))
            elif kind == kinds.Add:
                stack.append(sympy.Add(*args))
            elif kind == kinds.Mul:
                stack.append(sympy.Mul(*args))
            elif kind == kinds.Sub:
                stack.append(args[0] - sympy.Add(*args[1:]) if len(args) > 1 else -args[0])
            elif kind == kinds.Div:
                stack.append(args[0] / sympy.Mul(*args[1:]) if len(args) > 1 else 1 / args[0])
            elif kind == kinds.Pow and len(args) == 2:
                stack.append(args[0] ** args[1])
            else:
                return None
    return stack[-1] if len(stack) == 1 else None
