"""Compiling a whitelisted formula tree to closures, and the NumPy function table they call.

Each checked node becomes a float (a constant folded at parse time, in float64) or a small
closure ``fn(columns, ops)``; ``ops`` is the backend's function table, so one compiled formula
evaluates with NumPy. Nothing is ever evaluated as Python code.
"""

from __future__ import annotations

import ast
import difflib
from functools import cache
from typing import Any, Callable

import numpy as np

from mlpfit.data.sources.formula_grammar import (BINARY_OPERATORS, CONSTANTS, FUNCTION_ARITY, FUNCTION_LIST,
                                                 GRAMMAR_HINT, MAX_EXPONENT, NODE_DESCRIPTIONS, UNARY_OPERATORS,
                                                 VARIABLE_NAME, Columns, Compiled, Ops, quote, quote_name)
from mlpfit.errors import FormulaError


def compile_node(node: ast.expr) -> Compiled:
    """Check one node against the whitelist and turn it into a constant or a closure."""
    compilers = {
        ast.Constant: compile_constant,
        ast.Name: compile_name,
        ast.BinOp: compile_binary,
        ast.UnaryOp: compile_unary,
        ast.Call: compile_call,
    }
    compiler = compilers.get(type(node))
    if compiler is None:
        what = NODE_DESCRIPTIONS.get(type(node), "this construct")
        raise FormulaError(
            f"{what} {quote(ast.unparse(node))} is not allowed in a formula: {GRAMMAR_HINT}"
        )
    return compiler(node)


def compile_constant(node: ast.Constant) -> Compiled:
    value = node.value
    # bool is an int subclass, so test it first.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormulaError(
            f"{quote(ast.unparse(node))} is not a real number: {GRAMMAR_HINT}"
        )
    try:
        return finite_constant(float(value), node)
    except OverflowError:
        raise FormulaError(
            f"number {quote(ast.unparse(node))} is too large for float64: use a smaller one"
        ) from None


def compile_name(node: ast.Name) -> Compiled:
    name = node.id
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in FUNCTION_ARITY:
        raise FormulaError(
            f"{quote_name(name)} is a function, not a variable: call it, as in {name}(x)"
        )
    if not VARIABLE_NAME.fullmatch(name):
        raise FormulaError(
            f"variable name {quote(name)} is not allowed: use ASCII letters, digits and "
            "underscores, starting with a letter"
        )
    return lambda columns, ops: columns[name]


def compile_binary(node: ast.BinOp) -> Compiled:
    operator = BINARY_OPERATORS.get(type(node.op))
    if operator is None:
        raise FormulaError(
            f"operator in {quote(ast.unparse(node))} is not allowed in a formula: {GRAMMAR_HINT}"
        )
    symbol, apply = operator
    if symbol == "**":
        check_exponent(node)
    left, right = compile_node(node.left), compile_node(node.right)
    if symbol == "**" and isinstance(right, float) and abs(right) > MAX_EXPONENT:
        raise FormulaError(
            f"exponent in {quote(ast.unparse(node))} is {right:g}: use an exponent between "
            f"-{MAX_EXPONENT} and {MAX_EXPONENT}"
        )
    return combine(apply, (left, right), node)


def check_exponent(node: ast.BinOp) -> None:
    # A power inside an exponent (x**x**x, 2**2**2**2**2**2) grows beyond any float at once.
    if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.right)):
        raise FormulaError(
            f"power tower {quote(ast.unparse(node))}: an exponent may not itself contain a "
            "power; compute a simpler expression"
        )


def compile_unary(node: ast.UnaryOp) -> Compiled:
    apply = UNARY_OPERATORS.get(type(node.op))
    if apply is None:
        raise FormulaError(
            f"operator in {quote(ast.unparse(node))} is not allowed in a formula: {GRAMMAR_HINT}"
        )
    return combine(apply, (compile_node(node.operand),), node)


def compile_call(node: ast.Call) -> Compiled:
    source = quote(ast.unparse(node))
    if not isinstance(node.func, ast.Name):
        raise FormulaError(
            f"only functions called by name are allowed, not {source}: {GRAMMAR_HINT}"
        )
    name = node.func.id
    check_function_name(name, source)
    arity = FUNCTION_ARITY[name]
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(
            f"{source} uses keyword or * arguments: call {name} with {arity} plain argument(s)"
        )
    if len(node.args) != arity:
        raise FormulaError(
            f"{source} passes {len(node.args)} argument(s): {name} takes exactly {arity}"
        )
    arguments = tuple(compile_node(a) for a in node.args)
    return combine(lambda *values, ops=None: ops[name](*values), arguments, node, needs_ops=True)


def check_function_name(name: str, source: str) -> None:
    if name in FUNCTION_ARITY:
        return
    if name in CONSTANTS:
        raise FormulaError(
            f"{quote_name(name)} is a constant, not a function, in {source}: "
            f"write {name}*(...) to multiply"
        )
    close = difflib.get_close_matches(name, FUNCTION_ARITY, n=3)
    suggestion = f"did you mean {', '.join(close)}? " if close else ""
    raise FormulaError(
        f"unknown function {quote_name(name)} in {source}: {suggestion}use one of "
        f"{FUNCTION_LIST} (to multiply write {name}*(...))"
    )


def combine(apply: Callable, operands: tuple[Compiled, ...], node: ast.expr, needs_ops=False):
    """Fold when all operands are constants, else build the closure that applies `apply`."""
    if all(isinstance(o, float) for o in operands):
        with np.errstate(all="ignore"):
            values = [np.float64(o) for o in operands]
            result = apply(*values, ops=numpy_ops()) if needs_ops else apply(*values)
        return finite_constant(float(result), node)
    closures = [as_closure(o) for o in operands]
    if needs_ops:
        return lambda columns, ops: apply(*(c(columns, ops) for c in closures), ops=ops)
    return lambda columns, ops: apply(*(c(columns, ops) for c in closures))


def as_closure(compiled: Compiled) -> Callable[[Columns, Ops], Any]:
    if isinstance(compiled, float):
        return lambda columns, ops: compiled
    return compiled


def finite_constant(value: float, node: ast.expr) -> float:
    if not np.isfinite(value):
        raise FormulaError(
            f"{quote(ast.unparse(node))} evaluates to {value}: use numbers that stay finite"
        )
    return value


def evaluate(compiled: Compiled, columns: Columns, ops: Ops) -> Any:
    return compiled if isinstance(compiled, float) else compiled(columns, ops)


# Backends: the function table for each library


@cache
def numpy_ops() -> Ops:
    return {
        "sin": np.sin, "cos": np.cos, "tan": np.tan,
        "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
        "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
        "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
        "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p,
        "log2": np.log2, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
        "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
        # exp(-softplus(-x)) is the sigmoid without overflow in exp for large negative x.
        "sigmoid": lambda a: np.exp(-np.logaddexp(0.0, -a)),
        "relu": lambda a: np.maximum(a, 0.0),
        "softplus": lambda a: np.logaddexp(0.0, a),
        "min": np.minimum, "max": np.maximum, "atan2": np.arctan2,
    }  # fmt: skip
