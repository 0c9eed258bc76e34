"""Formulas as data: a safe parser and two evaluators (NumPy and PyTorch).

A formula such as ``"x*exp(x) - 10, exp(x), x**2"`` comes from the command line, so it is
untrusted text. It is parsed with :func:`ast.parse` (``mode="eval"``) and then checked against a
strict whitelist: numbers, variable names, ``+ - * / ** ^``, unary ``+ -``, parentheses, the
constants ``pi`` and ``e`` and a fixed table of functions. The text is never evaluated, executed
or compiled to bytecode; instead the checked tree is turned, once, into a tree of small Python
closures that take a dict of columns and a table of NumPy functions.

Constant subexpressions are folded at parse time in float64, which is also where absurd numbers
(``2**2**2**2**2**2``, ``1e308*10``) are caught: a formula must never be able to stall or
overflow the program before training starts.

"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from mlpfit.errors import FormulaError


__all__ = ["FUNCTION_ARITY", "Formula", "parse_formula", "natural_key"]

from mlpfit.data.sources.formula_compile import compile_node, evaluate, numpy_ops
from mlpfit.data.sources.formula_grammar import (CONSTANTS, FUNCTION_ARITY, GRAMMAR_HINT, MAX_DEPTH, MAX_LENGTH,
                                                 Compiled, one_line, quote, quote_name)

# ----------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula; evaluate it with :meth:`numpy`."""

    text: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    _compiled: tuple[Compiled, ...] = field(repr=False, compare=False, hash=False)

    def numpy(self, x: np.ndarray) -> np.ndarray:
        """Evaluate on ``x`` of shape [n, len(inputs)]; returns float64 [n, len(outputs)].

        Invalid points (log of a negative number, 1/0) give nan/inf silently: the caller decides
        what to do with them, so warnings here would only be noise.
        """
        x = np.asarray(x, dtype=np.float64)
        self._check_shape(tuple(x.shape))
        columns = {name: x[:, i] for i, name in enumerate(self.inputs)}
        ops = numpy_ops()
        with np.errstate(all="ignore"):
            values = [evaluate(node, columns, ops) for node in self._compiled]
        return np.stack([np.broadcast_to(v, (x.shape[0],)) for v in values], axis=1)

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 2 or shape[1] != len(self.inputs):
            raise ValueError(
                f"formula {self.text!r} needs input of shape [n, {len(self.inputs)}] "
                f"(columns {', '.join(self.inputs)}), got {list(shape)}"
            )


def parse_formula(text: str) -> Formula:
    """Parse and check ``text``; raise :class:`FormulaError` (one line) if it is not allowed."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}")
    text = text.strip()
    expressions = _checked_expressions(text)
    compiled = tuple(compile_node(e) for e in expressions)
    inputs = _free_variables(expressions)
    if not inputs:
        raise FormulaError(
            f"formula {quote(text)} has no variables: write it in terms of x, or x1, x2, ..."
        )
    outputs = tuple(ast.unparse(e) for e in expressions)
    return Formula(text=text, inputs=inputs, outputs=outputs, _compiled=compiled)


def constant_value(text: str) -> float:
    """The number a variable-free expression of the formula grammar stands for (``2*pi``, ``pi/2``, ``e^2``);
    FormulaError if it is not one."""
    text = text.strip()
    expressions = _checked_expressions(text)
    if len(expressions) != 1 or _free_variables(expressions):
        raise FormulaError(f"{quote(text)} is not a number: write a number or an expression of numbers, pi and e")
    with np.errstate(all="ignore"):
        return float(np.asarray(evaluate(compile_node(expressions[0]), {}, numpy_ops()), dtype=np.float64))


def _checked_expressions(text: str) -> list[ast.expr]:
    """The checked syntax trees of each output of ``text`` (stripped)."""
    _check_text(text)
    converted = text.replace("^", "**")  # `^` is power in a formula, XOR in Python
    tree = _parse(text, converted)
    _check_depth(tree, text)
    _refuse_private_names(tree)
    return _split_outputs(tree.body, text)


def natural_key(name: str) -> tuple:
    """Sort key putting x < y < z and x1 < x2 < x10: digit runs compare as numbers."""
    parts = (p for p in re.split(r"(\d+)", name) if p)
    key = tuple((1, int(p), p) if p.isdigit() else (0, p.casefold(), p) for p in parts)
    return key


# ----------------------------------------------------------------------------------------------
# Text-level checks and parsing


def _check_text(text: str) -> None:
    if not text:
        raise FormulaError('the formula is empty: write one such as "sin(x)" or "x1 + x2"')
    if "\x00" in text:
        raise FormulaError(f"formula {quote(text)} contains a null byte: remove it")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"formula {quote(text)} is {len(text)} characters long (limit {MAX_LENGTH}): "
            "shorten it"
        )
    if _bracket_depth(text) > MAX_DEPTH:
        # Checked before ast.parse, which may exhaust the C stack on deep nesting.
        raise FormulaError(_too_deep_message(text))


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _too_deep_message(text: str) -> str:
    return (
        f"formula {quote(text)} is nested more than {MAX_DEPTH} levels deep: "
        "simplify it or split it into fewer nested terms"
    )


def _parse(text: str, converted: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            # e.g. "invalid decimal literal" for `2x`: the error (if any) says it better, and a
            # warning printed by the parser would break the CLI's one-line contract.
            warnings.simplefilter("ignore")
            return ast.parse(converted, mode="eval")
    except SyntaxError as error:
        raise FormulaError(_syntax_message(text, error)) from None
    except (RecursionError, MemoryError):
        raise FormulaError(_too_deep_message(text)) from None
    except (ValueError, OverflowError) as error:  # e.g. an integer with > 4300 digits
        raise FormulaError(
            f"cannot read formula {quote(text)} ({one_line(str(error))}): "
            "use ordinary numbers"
        ) from None


def _syntax_message(text: str, error: SyntaxError) -> str:
    line_number = error.lineno or 1
    lines = text.splitlines() or [""]
    line = lines[min(line_number, len(lines)) - 1]
    column = _original_column(line, error.offset or 1)
    where = f"column {column}" if len(lines) == 1 else f"line {line_number}, column {column}"
    reason = quote(error.msg or "invalid syntax")[1:-1]  # one line, and short
    return (
        f"formula {quote(text)} is not valid at {where} ({reason}): check for a missing "
        "operator (write 2*x, not 2x), a missing operand or an unbalanced parenthesis"
    )


def _original_column(original_line: str, converted_offset: int) -> int:
    """Map a 1-based column in the `^`->`**` converted text back to the user's text."""
    position = 0
    for index, char in enumerate(original_line):
        position += 2 if char == "^" else 1
        if position >= converted_offset:
            return index + 1
    return len(original_line) + 1


def _check_depth(tree: ast.AST, text: str) -> None:
    """Refuse trees deeper than MAX_DEPTH, iteratively (recursion is what we guard against)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormulaError(_too_deep_message(text))
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop)):
            continue  # markers such as Load and Add do not nest anything
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _refuse_private_names(tree: ast.AST) -> None:
    # Reported first: an attempt at `__import__` deserves the clearest message, not a remark
    # about its call syntax.
    for node in ast.walk(tree):
        names = (getattr(node, field, None) for field in ("id", "attr", "arg"))
        name = next((n for n in names if isinstance(n, str)), "")
        if name.startswith("_"):
            raise FormulaError(f"{quote_name(name)} is not allowed in a formula: {GRAMMAR_HINT}")


def _split_outputs(body: ast.expr, text: str) -> list[ast.expr]:
    expressions = body.elts if isinstance(body, ast.Tuple) else [body]
    if not expressions:
        raise FormulaError(f"formula {quote(text)} has no outputs: write at least one expression")
    return list(expressions)


def _free_variables(expressions: list[ast.expr]) -> tuple[str, ...]:
    names = {
        node.id
        for expression in expressions
        for node in ast.walk(expression)
        if isinstance(node, ast.Name) and node.id not in CONSTANTS and node.id not in FUNCTION_ARITY
    }
    return tuple(sorted(names, key=natural_key))


