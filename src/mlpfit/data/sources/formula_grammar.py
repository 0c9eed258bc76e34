"""The formula grammar: what a formula may contain, its limits, and how refusals quote it.

Shared by the parser (formula.py) and the compiler (formula_compile.py).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Callable, Union

import numpy as np

MAX_LENGTH = 10_000  # characters; longer text is surely a mistake (or an attack)
MAX_DEPTH = 100  # nesting of operators, calls and parentheses; also bounds closure recursion
MAX_EXPONENT = 100  # |constant exponent|; beyond it float64 overflows for any base > ~1000

# name -> number of positional arguments. Only functions both NumPy and torch provide.
FUNCTION_ARITY: dict[str, int] = {
    **{
        name: 1
        for name in (
            "sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh "
            "exp expm1 log log1p log2 log10 sqrt abs sign floor ceil sigmoid relu softplus"
        ).split()
    },
    "min": 2,
    "max": 2,
    "atan2": 2,
}
CONSTANTS: dict[str, float] = {"pi": float(np.pi), "e": float(np.e)}

FUNCTION_LIST = ", ".join(FUNCTION_ARITY)
GRAMMAR_HINT = (
    "use only numbers, variables, + - * / ** ^, parentheses, pi, e and the functions "
    + FUNCTION_LIST
)
VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)

# Friendly names for the syntax Python accepts but a formula does not.
NODE_DESCRIPTIONS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "an f-string",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Tuple: "a nested tuple",
    ast.Starred: "unpacking (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}

BINARY_OPERATORS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
}
UNARY_OPERATORS: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: lambda a: +a,
    ast.USub: lambda a: -a,
}

# A compiled node is either a float (a folded constant) or fn(columns, ops) -> column.
Columns = dict[str, Any]
Ops = dict[str, Callable[..., Any]]
Compiled = Union[float, Callable[[Columns, Ops], Any]]


# Messages: always one line, and never the full 10,000 characters of a hostile formula


def one_line(text: str) -> str:
    """Escape every non-printable character (newlines, U+2028, ...) so a message stays one line."""
    escaped = (c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return "".join(escaped)


def quote(text: str, limit: int = 80) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return f'"{one_line(shown)}"'


def quote_name(name: str) -> str:
    return f"'{one_line(name[:80])}'"
