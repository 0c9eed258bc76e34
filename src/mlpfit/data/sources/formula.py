"""Formulas as data: a safe parser and two evaluators (NumPy and PyTorch).

A formula such as ``"x*exp(x) - 10, exp(x), x**2"`` comes from the command line, so it is
untrusted text. It is parsed with :func:`ast.parse` (``mode="eval"``) and then checked against a
strict whitelist: numbers, variable names, ``+ - * / ** ^``, unary ``+ -``, parentheses, the
constants ``pi`` and ``e`` and a fixed table of functions. The text is never evaluated, executed
or compiled to bytecode; instead the checked tree is turned, once, into a tree of small Python
closures that take a dict of columns and a table of backend functions (NumPy or torch).

Constant subexpressions are folded at parse time in float64, which is also where absurd numbers
(``2**2**2**2**2**2``, ``1e308*10``) are caught: a formula must never be able to stall or
overflow the program before training starts.

Parsing does not import torch: the CLI validates a formula before paying for that import.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np

from mlpfit.errors import FormulaError

if TYPE_CHECKING:  # only for annotations; torch is imported lazily in Formula.torch
    import torch

__all__ = ["Formula", "parse_formula", "natural_key"]

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

_FUNCTION_LIST = ", ".join(FUNCTION_ARITY)
_GRAMMAR_HINT = (
    "use only numbers, variables, + - * / ** ^, parentheses, pi, e and the functions "
    + _FUNCTION_LIST
)
_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)

# Friendly names for the syntax Python accepts but a formula does not.
_NODE_DESCRIPTIONS: dict[type, str] = {
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

_BINARY_OPERATORS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
}
_UNARY_OPERATORS: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: lambda a: +a,
    ast.USub: lambda a: -a,
}

# A compiled node is either a float (a folded constant) or fn(columns, ops) -> column.
Columns = dict[str, Any]
Ops = dict[str, Callable[..., Any]]
Compiled = Union[float, Callable[[Columns, Ops], Any]]


# ----------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula; evaluate it with :meth:`numpy` or :meth:`torch`."""

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
        ops = _numpy_ops()
        with np.errstate(all="ignore"):
            values = [_evaluate(node, columns, ops) for node in self._compiled]
        return np.stack([np.broadcast_to(v, (x.shape[0],)) for v in values], axis=1)

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate on a tensor [n, len(inputs)] where it lies; returns [n, len(outputs)].

        A floating ``x`` keeps its dtype; an integer one is promoted to torch's default dtype.
        """
        import torch  # lazily: parsing and the NumPy path must not pay for torch

        self._check_shape(tuple(x.shape))
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        columns = {name: x[:, i] for i, name in enumerate(self.inputs)}
        ops = _torch_ops()
        values = [_evaluate(node, columns, ops) for node in self._compiled]
        full = [v if torch.is_tensor(v) else torch.full_like(x[:, 0], v) for v in values]
        return torch.stack([v.to(x.dtype) for v in full], dim=1)

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
    _check_text(text)
    converted = text.replace("^", "**")  # `^` is power in a formula, XOR in Python
    tree = _parse(text, converted)
    _check_depth(tree, text)
    _refuse_private_names(tree)
    expressions = _split_outputs(tree.body, text)
    compiled = tuple(_compile(e) for e in expressions)
    inputs = _free_variables(expressions)
    if not inputs:
        raise FormulaError(
            f"formula {_quote(text)} has no variables: write it in terms of x, or x1, x2, ..."
        )
    outputs = tuple(ast.unparse(e) for e in expressions)
    return Formula(text=text, inputs=inputs, outputs=outputs, _compiled=compiled)


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
        raise FormulaError(f"formula {_quote(text)} contains a null byte: remove it")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"formula {_quote(text)} is {len(text)} characters long (limit {MAX_LENGTH}): "
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
        f"formula {_quote(text)} is nested more than {MAX_DEPTH} levels deep: "
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
            f"cannot read formula {_quote(text)} ({_one_line(str(error))}): "
            "use ordinary numbers"
        ) from None


def _syntax_message(text: str, error: SyntaxError) -> str:
    line_number = error.lineno or 1
    lines = text.splitlines() or [""]
    line = lines[min(line_number, len(lines)) - 1]
    column = _original_column(line, error.offset or 1)
    where = f"column {column}" if len(lines) == 1 else f"line {line_number}, column {column}"
    reason = _quote(error.msg or "invalid syntax")[1:-1]  # one line, and short
    return (
        f"formula {_quote(text)} is not valid at {where} ({reason}): check for a missing "
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
            raise FormulaError(f"{_quote_name(name)} is not allowed in a formula: {_GRAMMAR_HINT}")


def _split_outputs(body: ast.expr, text: str) -> list[ast.expr]:
    expressions = body.elts if isinstance(body, ast.Tuple) else [body]
    if not expressions:
        raise FormulaError(f"formula {_quote(text)} has no outputs: write at least one expression")
    return list(expressions)


def _free_variables(expressions: list[ast.expr]) -> tuple[str, ...]:
    names = {
        node.id
        for expression in expressions
        for node in ast.walk(expression)
        if isinstance(node, ast.Name) and node.id not in CONSTANTS and node.id not in FUNCTION_ARITY
    }
    return tuple(sorted(names, key=natural_key))


# ----------------------------------------------------------------------------------------------
# Whitelist and compilation to closures


def _compile(node: ast.expr) -> Compiled:
    """Check one node against the whitelist and turn it into a constant or a closure."""
    compilers = {
        ast.Constant: _compile_constant,
        ast.Name: _compile_name,
        ast.BinOp: _compile_binary,
        ast.UnaryOp: _compile_unary,
        ast.Call: _compile_call,
    }
    compiler = compilers.get(type(node))
    if compiler is None:
        what = _NODE_DESCRIPTIONS.get(type(node), "this construct")
        raise FormulaError(
            f"{what} {_quote(ast.unparse(node))} is not allowed in a formula: {_GRAMMAR_HINT}"
        )
    return compiler(node)


def _compile_constant(node: ast.Constant) -> Compiled:
    value = node.value
    # bool is an int subclass, so test it first.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormulaError(
            f"{_quote(ast.unparse(node))} is not a real number: {_GRAMMAR_HINT}"
        )
    try:
        return _finite_constant(float(value), node)
    except OverflowError:
        raise FormulaError(
            f"number {_quote(ast.unparse(node))} is too large for float64: use a smaller one"
        ) from None


def _compile_name(node: ast.Name) -> Compiled:
    name = node.id
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in FUNCTION_ARITY:
        raise FormulaError(
            f"{_quote_name(name)} is a function, not a variable: call it, as in {name}(x)"
        )
    if not _VARIABLE_NAME.fullmatch(name):
        raise FormulaError(
            f"variable name {_quote(name)} is not allowed: use ASCII letters, digits and "
            "underscores, starting with a letter"
        )
    return lambda columns, ops: columns[name]


def _compile_binary(node: ast.BinOp) -> Compiled:
    operator = _BINARY_OPERATORS.get(type(node.op))
    if operator is None:
        raise FormulaError(
            f"operator in {_quote(ast.unparse(node))} is not allowed in a formula: {_GRAMMAR_HINT}"
        )
    symbol, apply = operator
    if symbol == "**":
        _check_exponent(node)
    left, right = _compile(node.left), _compile(node.right)
    if symbol == "**" and isinstance(right, float) and abs(right) > MAX_EXPONENT:
        raise FormulaError(
            f"exponent in {_quote(ast.unparse(node))} is {right:g}: use an exponent between "
            f"-{MAX_EXPONENT} and {MAX_EXPONENT}"
        )
    return _combine(apply, (left, right), node)


def _check_exponent(node: ast.BinOp) -> None:
    # A power inside an exponent (x**x**x, 2**2**2**2**2**2) grows beyond any float at once.
    if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.right)):
        raise FormulaError(
            f"power tower {_quote(ast.unparse(node))}: an exponent may not itself contain a "
            "power; compute a simpler expression"
        )


def _compile_unary(node: ast.UnaryOp) -> Compiled:
    apply = _UNARY_OPERATORS.get(type(node.op))
    if apply is None:
        raise FormulaError(
            f"operator in {_quote(ast.unparse(node))} is not allowed in a formula: {_GRAMMAR_HINT}"
        )
    return _combine(apply, (_compile(node.operand),), node)


def _compile_call(node: ast.Call) -> Compiled:
    source = _quote(ast.unparse(node))
    if not isinstance(node.func, ast.Name):
        raise FormulaError(
            f"only functions called by name are allowed, not {source}: {_GRAMMAR_HINT}"
        )
    name = node.func.id
    _check_function_name(name, source)
    arity = FUNCTION_ARITY[name]
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(
            f"{source} uses keyword or * arguments: call {name} with {arity} plain argument(s)"
        )
    if len(node.args) != arity:
        raise FormulaError(
            f"{source} passes {len(node.args)} argument(s): {name} takes exactly {arity}"
        )
    arguments = tuple(_compile(a) for a in node.args)
    return _combine(lambda *values, ops=None: ops[name](*values), arguments, node, needs_ops=True)


def _check_function_name(name: str, source: str) -> None:
    if name in FUNCTION_ARITY:
        return
    if name in CONSTANTS:
        raise FormulaError(
            f"{_quote_name(name)} is a constant, not a function, in {source}: "
            f"write {name}*(...) to multiply"
        )
    close = difflib.get_close_matches(name, FUNCTION_ARITY, n=3)
    suggestion = f"did you mean {', '.join(close)}? " if close else ""
    raise FormulaError(
        f"unknown function {_quote_name(name)} in {source}: {suggestion}use one of "
        f"{_FUNCTION_LIST} (to multiply write {name}*(...))"
    )


def _combine(apply: Callable, operands: tuple[Compiled, ...], node: ast.expr, needs_ops=False):
    """Fold when all operands are constants, else build the closure that applies `apply`."""
    if all(isinstance(o, float) for o in operands):
        with np.errstate(all="ignore"):
            values = [np.float64(o) for o in operands]
            result = apply(*values, ops=_numpy_ops()) if needs_ops else apply(*values)
        return _finite_constant(float(result), node)
    closures = [_as_closure(o) for o in operands]
    if needs_ops:
        return lambda columns, ops: apply(*(c(columns, ops) for c in closures), ops=ops)
    return lambda columns, ops: apply(*(c(columns, ops) for c in closures))


def _as_closure(compiled: Compiled) -> Callable[[Columns, Ops], Any]:
    if isinstance(compiled, float):
        return lambda columns, ops: compiled
    return compiled


def _finite_constant(value: float, node: ast.expr) -> float:
    if not np.isfinite(value):
        raise FormulaError(
            f"{_quote(ast.unparse(node))} evaluates to {value}: use numbers that stay finite"
        )
    return value


def _evaluate(compiled: Compiled, columns: Columns, ops: Ops) -> Any:
    return compiled if isinstance(compiled, float) else compiled(columns, ops)


# ----------------------------------------------------------------------------------------------
# Backends: the function table for each library


@cache
def _numpy_ops() -> Ops:
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


@cache
def _torch_ops() -> Ops:
    import torch

    def binary(function):
        # torch's two-tensor functions refuse a Python float; lift it to the other's dtype/device.
        def lifted(a, b):
            if not torch.is_tensor(a):
                a = torch.as_tensor(a, dtype=b.dtype, device=b.device)
            if not torch.is_tensor(b):
                b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
            return function(a, b)

        return lifted

    return {
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan,
        "asin": torch.asin, "acos": torch.acos, "atan": torch.atan,
        "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh,
        "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
        "exp": torch.exp, "expm1": torch.expm1, "log": torch.log, "log1p": torch.log1p,
        "log2": torch.log2, "log10": torch.log10, "sqrt": torch.sqrt, "abs": torch.abs,
        "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil,
        "sigmoid": torch.sigmoid, "relu": torch.relu,
        "softplus": torch.nn.functional.softplus,
        "min": binary(torch.minimum), "max": binary(torch.maximum), "atan2": binary(torch.atan2),
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Messages: always one line, and never the full 10,000 characters of a hostile formula


def _one_line(text: str) -> str:
    """Escape every non-printable character (newlines, U+2028, ...) so a message stays one line."""
    escaped = (c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return "".join(escaped)


def _quote(text: str, limit: int = 80) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return f'"{_one_line(shown)}"'


def _quote_name(name: str) -> str:
    return f"'{_one_line(name[:80])}'"
