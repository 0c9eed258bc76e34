"""Formulas as sympy expressions: read from mlpfit's grammar, printed back into it, measured and evaluated.

Every candidate of the symbolic readout, whichever search proposed it, becomes a sympy expression
over the run's input symbols, so one simplifier, one constant fitter and one printer serve them all.
A formula's text is data: it is read by walking its checked syntax tree (never ``sympify``, which
evaluates), and printed so that mlpfit's own parser reads it back (``e`` and ``pi``, ``**``, plain
decimals without exponents).
"""

# Deferred imports: sympy (and scipy) load inside the functions that use them, so `mlpfit explain` without
# --symbolic never pays for them.

from __future__ import annotations

import ast
import functools
import math

import numpy as np

from mlpfit.data.sources.formula import parse_formula

SIGNIFICANT = 6  # digits a free constant is printed with: finer than any fit the readout accepts
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "asin", "acos", "atan", "abs")


def symbols(names: list[str]) -> list:
    import sympy

    return [sympy.Symbol(name, real=True) for name in names]


def from_text(text: str, names: list[str]):
    """The sympy expression of a formula in the grammar (checked by mlpfit's parser first)."""
    import sympy

    parse_formula(text)  # refuses anything outside the grammar before the tree is walked
    table = dict(zip(names, symbols(names)))
    functions = {name: getattr(sympy, "Abs" if name == "abs" else name) for name in FUNCTIONS}

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return sympy.nsimplify(node.value) if float(node.value).is_integer() else sympy.Float(node.value)
        if isinstance(node, ast.Name):
            return {"pi": sympy.pi, "e": sympy.E}.get(node.id) or table[node.id]
        if isinstance(node, ast.UnaryOp):
            return -walk(node.operand) if isinstance(node.op, ast.USub) else walk(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            operator = type(node.op)
            if operator is ast.Add:
                return a + b
            if operator is ast.Sub:
                return a - b
            if operator is ast.Mult:
                return a * b
            if operator is ast.Div:
                return a / b
            if operator in (ast.Pow, ast.BitXor):
                return a ** b
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
            return functions[node.func.id](*[walk(arg) for arg in node.args])
        raise ValueError(f"the symbolic readout cannot read {ast.dump(node)[:60]}")

    return walk(ast.parse(text.replace("^", "**"), mode="eval"))


def number(value: float, digits: int = SIGNIFICANT) -> str:
    """A float as the grammar reads it: positional, trailing zeros trimmed, ``digits`` significant."""
    if value == 0 or not math.isfinite(value):
        return "0"
    rounded = round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return np.format_float_positional(rounded, trim="-")


def to_text(expr) -> str:
    """The expression in mlpfit's grammar (a constant as a plain number, which is how explain reads it back)."""
    from sympy.printing.str import StrPrinter

    if not expr.free_symbols:
        return number(float(expr))

    class GrammarPrinter(StrPrinter):
        def _print_Exp1(self, e):
            return "e"

        def _print_Pi(self, e):
            return "pi"

        def _print_Float(self, e):
            return number(float(e))

        def _print_Abs(self, e):
            return f"abs({self._print(e.args[0])})"

        def _print_Rational(self, e):
            return f"{e.p}/{e.q}" if e.q != 1 else str(e.p)

    return GrammarPrinter().doprint(expr)


def complexity(expr) -> int:
    """Nodes of the expression tree, a constant part counting by how simple it is: an integer 1, a
    fraction, pi or e (or a fraction of them) 2, any other exact constant (sqrt(2*pi), exp(-1)) 3, and
    a free (Float) number 4, so that a recognized constant makes a formula simpler than a fitted number,
    and an odd one does not make a lookalike simpler than the law."""
    import sympy

    if not expr.free_symbols:
        if expr.atoms(sympy.Float):
            return 4
        if isinstance(expr, sympy.Integer):
            return 1
        if isinstance(expr, sympy.Rational) or expr in (sympy.pi, sympy.E) or (
                isinstance(expr, sympy.Mul) and len(expr.args) == 2 and isinstance(expr.args[0], sympy.Rational)
                and expr.args[1] in (sympy.pi, sympy.E)):
            return 2
        return 3
    return 1 + sum(complexity(arg) for arg in expr.args)


def evaluator(expr, names: list[str]):
    """A NumPy function of X [n, len(names)] for the expression (nan where it is undefined)."""
    function = compiled(expr, tuple(names))

    def evaluate(X: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            value = function(*[X[:, i] for i in range(len(names))])
        value = np.broadcast_to(np.asarray(value, dtype=np.float64 if not np.iscomplexobj(value) else complex),
                                (len(X),))
        if np.iscomplexobj(value):
            value = np.where(np.abs(value.imag) < 1e-12, value.real, np.nan)
        return np.asarray(value, dtype=np.float64)

    return evaluate


@functools.lru_cache(maxsize=4096)
def compiled(expr, names: tuple[str, ...]):
    """The expression as a NumPy function of one array per name: a search scores the same formula
    many times (a part, its combinations, the choice), and sympy's lambdify costs milliseconds."""
    import sympy

    return sympy.lambdify(symbols(list(names)), expr, modules="numpy")
