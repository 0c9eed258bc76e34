"""Tests of the formula parser: the grammar, both evaluators, and refusal of everything else."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.errors import FormulaError
from mlpfit.data.sources.formula import FUNCTION_ARITY, Formula, natural_key, parse_formula

SRC = Path(__file__).resolve().parents[1] / "src"


def grid(n_inputs: int, n: int = 50, low: float = -2.0, high: float = 2.0, seed: int = 0):
    return np.random.default_rng(seed).uniform(low, high, size=(n, n_inputs))


# ---------------------------------------------------------------------------------------------
# Variables and natural order


@pytest.mark.parametrize(
    "text, inputs",
    [
        ("z + y + x", ("x", "y", "z")),
        ("x10 + x2 + x1", ("x1", "x2", "x10")),
        ("b * a", ("a", "b")),
        ("x + x1 + y", ("x", "x1", "y")),
        ("sin(t) * pi + e", ("t",)),
        ("radius_2 + radius_10", ("radius_2", "radius_10")),
    ],
)
def test_inputs_are_the_free_names_in_natural_order(text, inputs):
    assert parse_formula(text).inputs == inputs


def test_natural_key_sorts_digit_runs_as_numbers():
    names = ["x10", "y", "x2", "x", "x1", "a3b", "a10b"]
    assert sorted(names, key=natural_key) == ["a3b", "a10b", "x", "x1", "x2", "x10", "y"]


# ---------------------------------------------------------------------------------------------
# Grammar and evaluation


def test_caret_means_power_with_power_precedence():
    formula = parse_formula("x^2 + 1")  # in Python `^` binds looser than `+`: it would be x**3
    x = grid(1)
    np.testing.assert_allclose(formula.numpy(x)[:, 0], x[:, 0] ** 2 + 1)
    assert formula.outputs == ("x ** 2 + 1",)


def test_power_binds_tighter_than_unary_minus():
    x = grid(1)
    np.testing.assert_allclose(parse_formula("-x^2").numpy(x)[:, 0], -(x[:, 0] ** 2))


def test_pi_and_e_are_constants():
    formula = parse_formula("pi * x + e")
    x = grid(1)
    np.testing.assert_allclose(formula.numpy(x)[:, 0], np.pi * x[:, 0] + np.e)


def test_text_is_stripped_and_outputs_are_unparsed():
    formula = parse_formula("  x*exp(x) - 10, exp(x), x**2 \n")
    assert formula.text == "x*exp(x) - 10, exp(x), x**2"
    assert formula.outputs == ("x * exp(x) - 10", "exp(x)", "x ** 2")


def test_multiple_outputs_match_hand_written_values():
    formula = parse_formula("x*exp(x) - 10, exp(x), x**2")
    x = grid(1, n=200, seed=1)
    expected = np.stack([x[:, 0] * np.exp(x[:, 0]) - 10, np.exp(x[:, 0]), x[:, 0] ** 2], axis=1)
    np.testing.assert_allclose(formula.numpy(x), expected, rtol=1e-12)


def test_two_variables():
    formula = parse_formula("x1 * sin(x2) + x2 ^ 3 / (1 + x1**2)")
    x = grid(2, seed=2)
    a, b = x[:, 0], x[:, 1]
    expected = a * np.sin(b) + b**3 / (1 + a**2)
    np.testing.assert_allclose(formula.numpy(x)[:, 0], expected, rtol=1e-12)


def test_constant_outputs_broadcast_to_every_row():
    formula = parse_formula("x, 3, 2*pi")
    x = grid(1, n=7)
    out = formula.numpy(x)
    assert out.shape == (7, 3)
    np.testing.assert_allclose(out[:, 1], 3.0)
    np.testing.assert_allclose(out[:, 2], 2 * np.pi)


def test_zero_rows():
    formula = parse_formula("x + y, 1")
    assert formula.numpy(np.zeros((0, 2))).shape == (0, 2)


@pytest.mark.parametrize("name", sorted(FUNCTION_ARITY))
def test_every_function_agrees_with_torchs(name):
    text = f"{name}(x)" if FUNCTION_ARITY[name] == 1 else f"{name}(x, y)"
    formula = parse_formula(text)
    x = grid(len(formula.inputs), n=100, low=-3, high=3, seed=3)
    x[0] = 0.0  # sign, relu and friends at their kink
    expected = formula.numpy(x)
    assert expected.shape == (100, 1)
    assert np.isfinite(expected).any()  # every function has some valid point in [-3, 3]
    got = torch_reference(name)(*torch.from_numpy(x).T).numpy()
    np.testing.assert_allclose(got, expected[:, 0], rtol=1e-10, atol=1e-12, equal_nan=True)


def torch_reference(name: str):
    """torch's own function of the name: an independent implementation to check the NumPy table against."""
    binary = {"min": torch.minimum, "max": torch.maximum, "atan2": torch.atan2}
    return binary.get(name) or getattr(torch, name, None) or getattr(torch.nn.functional, name)


@pytest.mark.parametrize(
    "text, function",
    [
        ("sigmoid(x)", lambda x: 1 / (1 + np.exp(-x))),
        ("relu(x)", lambda x: np.maximum(x, 0)),
        ("softplus(x)", lambda x: np.log1p(np.exp(x))),
        ("min(x, 0.5)", lambda x: np.minimum(x, 0.5)),
        ("max(1, x)", lambda x: np.maximum(x, 1)),
        ("atan2(1, x)", lambda x: np.arctan2(1, x)),
        ("2 ** x", lambda x: 2**x),
        ("1 / x", lambda x: 1 / x),
    ],
)
def test_functions_and_mixed_constant_arguments(text, function):
    x = grid(1, seed=4)
    expected = function(x[:, 0])
    np.testing.assert_allclose(parse_formula(text).numpy(x)[:, 0], expected, rtol=1e-12)


def test_invalid_points_give_nan_quietly():
    with np.errstate(all="raise"):  # the evaluator must not leak warnings as errors
        out = parse_formula("log(x), 1/x").numpy(np.array([[-1.0], [0.0]]))
    assert np.isnan(out[0, 0]) and np.isinf(out[1, 1])


def test_wrong_input_shape_is_a_value_error():
    formula = parse_formula("x + y")
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        formula.numpy(np.zeros((3, 1)))


def test_formula_is_a_frozen_value():
    a, b = parse_formula("x + 1"), parse_formula(" x + 1 ")
    assert a == b and hash(a) == hash(b) and isinstance(a, Formula)
    with pytest.raises(AttributeError):
        a.text = "y"  # type: ignore[misc]


def test_parsing_does_not_import_torch():
    code = (
        "import sys, mlpfit.data.sources.formula as f; f.parse_formula('x+1, sin(y)'); "
        "import numpy; f.parse_formula('x').numpy(numpy.zeros((2, 1))); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# ---------------------------------------------------------------------------------------------
# Refusals: everything outside the grammar is a FormulaError with a one-line message


HOSTILE = [
    # (formula, a part the message must quote)
    ("__import__('os').system('echo hi')", "__import__"),
    ("x.__class__", "__class__"),
    ("x.real", "x.real"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in y]", "[x for x in y]"),
    ("open('f')", "open"),
    ("eval('1') + x", "eval"),
    ("x if y else z", "x if y else z"),
    ("x < y", "x < y"),
    ("x and y", "x and y"),
    ("not x", "not x"),
    ("~x", "~x"),
    ("x % 2", "x % 2"),
    ("x // 2", "x // 2"),
    ("x @ y", "x @ y"),
    ("'abc'", "abc"),
    ("b'abc' + x", "abc"),
    ("f'{x}'", "f'{x}'"),
    ("True * x", "True"),
    ("None", "None"),
    ("1j * x", "1j"),
    ("(y := x)", ":="),
    ("x**99999", "99999"),
    ("x ^ -101", "-101"),
    ("2**2**2**2**2**2", "2 ** 2 ** 2"),
    ("x**x**x", "x ** x ** x"),
    ("x ** (y ^ 2)", "x ** y ** 2"),
    ("1e308 * 10 + x", "1e+308 * 10"),
    ("exp(1000) * x", "exp(1000)"),
    ("9" * 400 + " * x", "999"),
    ("(" * 10000 + "x" + ")" * 10000, "((("),
    ("(" * 150 + "x" + ")" * 150, "((("),
    ("-" * 5000 + "x", "---"),
    ("+".join(["x"] * 200), "x+x+x"),
    ("x" * 10001, "xxx"),
    ("sin(x, y)", "sin(x, y)"),
    ("sin()", "sin()"),
    ("atan2(x)", "atan2(x)"),
    ("sin(x=1)", "sin(x=1)"),
    ("sin(*x)", "sin(*x)"),
    ("foo(x)", "foo"),
    ("sinn(x)", "sin"),
    ("x(2)", "x"),
    ("pi(2)", "pi"),
    ("sin + x", "sin"),
    ("3 + 4", "3 + 4"),
    ("pi", "pi"),
    ("", "empty"),
    ("   ", "empty"),
    ("x +", "x +"),
    ("(x", "(x"),
    ("x )", "x )"),
    ("x; y", "x; y"),
    ("x = 1", "x = 1"),
    ("import os", "import os"),
    ("\x00", "\\x00"),
    ("x\x00", "\\x00"),
    ("x[0]", "x[0]"),
    ("{x}", "{x}"),
    ("{'a': x}", "{'a': x}"),
    ("[x]", "[x]"),
    ("x, (y, z)", "(y, z)"),
    ("()", "()"),
    ("x.y(z)", "x.y(z)"),
    ("sin(x)(y)", "sin(x)(y)"),
    ("α + 1", "α"),
    ("_x + 1", "_x"),
    ("(x\n+)", "line 2"),
    ("x\u2028+", "\\u2028"),
    ("await x", "await x"),
]


@pytest.mark.parametrize("text, quoted", HOSTILE, ids=[repr(t[:20]) for t, _ in HOSTILE])
def test_hostile_formulas_are_refused_with_one_line_naming_the_problem(text, quoted):
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and message.isprintable()
    assert quoted in message, message
    assert ": " in message  # the second half says what to do
    assert len(message) < 600


def test_unknown_function_suggests_close_names():
    with pytest.raises(FormulaError, match="did you mean sin"):
        parse_formula("sinn(x)")


def test_syntax_error_column_refers_to_the_text_as_typed():
    # `^` is rewritten to `**` before parsing; the column must still match what the user typed.
    with pytest.raises(FormulaError, match="column 5"):
        parse_formula("x^2 $ 1")


def test_non_text_is_refused():
    with pytest.raises(FormulaError, match="must be text"):
        parse_formula(b"x + 1")  # type: ignore[arg-type]


def test_refused_formulas_have_no_side_effects(tmp_path):
    target = tmp_path / "pwned"
    attempts = [
        f"open({str(target)!r}, 'w')",
        f"__import__('os').system('touch {target}')",
        f"__import__('pathlib').Path({str(target)!r}).touch()",
        "[c for c in ().__class__.__base__.__subclasses__()] + x",
        f"exec('open({str(target)!r}, \"w\")')",
    ]
    for text in attempts:
        with pytest.raises(FormulaError):
            parse_formula(text)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Fuzzing: any text either parses into a working Formula or raises FormulaError, nothing else

TOKENS = [
    "x", "y", "x1", "x10", "z2", "a", "pi", "e", "0", "1", "2.5", "1e-3", "1e308", "100",
    "101", "99999", "+", "-", "*", "/", "**", "^", "%", "//", "(", ")", "(", ")", ",", ", ",
    "[", "]", "{", "}", ".", ":", "=", ";", "<", "and", "if", "else", "lambda", "not",
    "__import__", "__class__", "_", "'s'", "\x00", "\n", " ", "sin", "exp", "log", "sqrt",
    "min", "atan2", "relu", "sigmoid", "foo", "open", "True", "None", "j",
]  # fmt: skip

# A grammar-ish strategy: mostly plausible formulas, often slightly broken.
formula_like = st.lists(st.sampled_from(TOKENS), min_size=0, max_size=30).map("".join)


def check_parses_or_refuses(text: str) -> None:
    try:
        formula = parse_formula(text)
    except FormulaError as error:
        assert len(str(error).splitlines()) == 1
        return
    x = grid(len(formula.inputs), n=5, seed=5)
    with np.errstate(all="ignore"):
        out = formula.numpy(x)
    assert out.shape == (5, len(formula.outputs))
    assert out.dtype == np.float64


@settings(max_examples=examples(600), deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text(text):
    check_parses_or_refuses(text)


@settings(max_examples=examples(1400), deadline=None)
@given(formula_like)
def test_fuzz_token_soup(text):
    check_parses_or_refuses(text)
