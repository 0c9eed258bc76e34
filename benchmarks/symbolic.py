"""The symbolic readout against symbolic-regression tools on standard laws: which are recovered, how fast.

    python benchmarks/symbolic.py [--only NAME,NAME] [--skip-anchors]

Each law (Nguyen's suite and AI Feynman equations with their published ranges) is fitted with
mlpfit's defaults (`mlpfit fit FORMULA --domain ...`), then read back with `mlpfit explain RUN
--symbolic`, whole processes, timed. The anchors get 1,000 exact samples of the law in the same box:
gplearn's SymbolicRegressor (population 1,000, 20 generations) and pyoperon alone (one run with
mlpfit's operator set and its three seeds' evaluations together, the model its BIC selects: its
default, minimum description length with a noise of 1, picks a line on exact samples of small laws). Last, a CSV
of 500 measurements of a two-input law with 1% noise goes through `fit` and `explain --symbolic`.

A law is recovered when the formula is the same law with its constants within 1%: its numbers,
refitted to the law on 2,000 random points of the box, reproduce it to 1e-8, each moving by at most
1% (or by a millionth of the law's size) to do so (so 0.0796*q1*q2/(epsilon*r**2) is Coulomb's law, and 0.4*x a different one from x/e).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REQUIRED = [  # the laws issue 28 names
    ("nguyen-1", "x**3 + x**2 + x", "-1:1"),
    ("nguyen-2", "x**4 + x**3 + x**2 + x", "-1:1"),
    ("nguyen-5", "sin(x**2)*cos(x) - 1", "-1:1"),
    ("nguyen-7", "log(x + 1) + log(x**2 + 1)", "0:2"),
    ("nguyen-10", "2*sin(x)*cos(y)", "-1:1"),
    ("feynman-I.6.2a", "exp(-theta**2/2)/sqrt(2*pi)", "1:3"),
    ("feynman-I.10.7", "m0/sqrt(1 - v**2/c**2)", "m0=1:5,v=1:2,c=3:10"),
    ("feynman-I.39.22", "n*k*T/V", "1:5"),
    ("sin5x", "sin(5*x)", "-1:1"),
]
OTHERS = [  # more of the same benchmarks
    ("nguyen-3", "x**5 + x**4 + x**3 + x**2 + x", "-1:1"),
    ("nguyen-6", "sin(x) + sin(x + x**2)", "-1:1"),
    ("nguyen-8", "sqrt(x)", "0:4"),
    ("nguyen-9", "sin(x) + sin(y**2)", "-1:1"),
    ("nguyen-12", "x**4 - x**3 + y**2/2 - y", "-1:1"),
    ("feynman-I.6.2", "exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma)", "1:3"),
    ("feynman-I.12.1", "mu*N", "1:5"),
    ("feynman-I.12.2", "q1*q2/(4*pi*epsilon*r**2)", "1:5"),
    ("feynman-I.12.11", "q*(Ef + B*v*sin(theta))", "1:5"),
    ("feynman-I.14.4", "k*x**2/2", "1:5"),
    ("feynman-I.18.4", "(m1*r1 + m2*r2)/(m1 + m2)", "1:5"),
    ("feynman-I.29.4", "omega/c", "1:10"),
    ("feynman-I.39.10", "3/2*p*V", "1:5"),
    ("feynman-I.48.2", "m*c**2/sqrt(1 - v**2/c**2)", "m=1:5,v=1:2,c=3:10"),
]
CSV_LAW = ("kinetic energy, 500 rows, 1% noise", "m*v**2/2", {"m": (1.0, 5.0), "v": (1.0, 5.0)})


def box_of(names: list[str], domain: str) -> list[tuple[float, float]]:
    if "=" not in domain:
        lo, hi = map(float, domain.split(":"))
        return [(lo, hi)] * len(names)
    parts = dict(item.split("=") for item in domain.split(","))
    return [tuple(map(float, parts[name].split(":"))) for name in names]


def coefficients(expr):
    """The expression with each number that multiplies or adds (not an exponent, not inside a
    function's argument list as its own) made a parameter: (template, parameters, their values)."""
    import sympy

    params, values = [], []

    def walk(node, free_place: bool):
        if not node.free_symbols:
            if free_place and node != 0:
                p = sympy.Symbol(f"p{len(params)}")
                params.append(p)
                values.append(float(node))
                return p
            return node
        if not node.args:
            return node
        if isinstance(node, (sympy.Add, sympy.Mul)):
            return node.func(*[walk(arg, True) for arg in node.args])
        if isinstance(node, sympy.Pow):
            return sympy.Pow(walk(node.base, True), node.exp)
        return node.func(*[walk(arg, True) for arg in node.args])

    return walk(expr, True), params, np.array(values)


def recovered(text: str | None, truth: str, names: list[str], box) -> bool:
    """The same law with its constants within 1%: the formula's numbers, refitted to the law on 2,000
    random points of the box, reproduce it (to 1e-8) and each moves by at most 1% to do so."""
    import sympy
    from scipy.optimize import least_squares

    from mlpfit.report.expression import evaluator, from_text, symbols

    if not text:
        return False
    try:
        found = from_text(text, names)
    except Exception:  # noqa: BLE001 - an anchor's formula outside the grammar is simply not recovered
        return False
    lows, highs = np.array(box).T
    X = lows + (highs - lows) * np.random.default_rng(7).random((2000, len(names)))
    want = evaluator(from_text(truth, names), names)(X)
    template, params, start = coefficients(found)
    function = sympy.lambdify(params + symbols(names), template, modules="numpy")

    def gap(values):
        with np.errstate(all="ignore"):
            got = np.broadcast_to(np.asarray(function(*values, *X.T), dtype=float), want.shape)
        return np.where(np.isfinite(got), (got - want) / (1 + np.abs(want)), 1e3)

    if not params:
        return bool(np.max(np.abs(gap([]))) <= 1e-8)
    fit = least_squares(gap, start, xtol=1e-15, ftol=1e-15, gtol=1e-15)
    negligible = 1e-6 * (1 + float(np.max(np.abs(want))))  # a constant of 1e-8 added to a law of size 1 is no other law
    return bool(np.max(np.abs(fit.fun)) <= 1e-8 and np.all(np.abs(fit.x - start) <= 0.01 * np.abs(start) + negligible))


def mlpfit_cli(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "mlpfit", *args, "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-400:])
    return json.loads(done.stdout)


def run_mlpfit(target: str, fit_args: list[str], folder: str) -> tuple[str | None, float, float]:
    """The readout's formula, the fit's seconds and the readout's seconds (whole processes)."""
    start = time.perf_counter()
    mlpfit_cli("fit", target, *fit_args, "--out", folder, "--quiet")
    fitted = time.perf_counter()
    s = mlpfit_cli("explain", folder, "--symbolic")["symbolic"]
    return s["formula"], fitted - start, time.perf_counter() - fitted


def samples(truth: str, names, box, n: int = 1000):
    from mlpfit.report.expression import evaluator, from_text

    lows, highs = np.array(box).T
    X = lows + (highs - lows) * np.random.default_rng(0).random((n, len(names)))
    return X, np.array(evaluator(from_text(truth, names), names)(X))  # a writable copy: pyoperon refuses a view


def run_gplearn(X, y, names) -> str | None:
    from gplearn.genetic import SymbolicRegressor

    from mlpfit.report.expression import to_text

    model = SymbolicRegressor(population_size=1000, generations=20, function_set=(
        "add", "sub", "mul", "div", "sqrt", "log", "sin", "cos"), random_state=0, n_jobs=1)
    model.fit(X, y)
    return to_text(gplearn_to_sympy(model._program.program, names))


def gplearn_to_sympy(program: list, names: list[str]):
    """gplearn's program (prefix order; ints are inputs, floats constants) as sympy; its protected
    operators are read as the plain ones, which they equal wherever the law is defined."""
    import sympy

    from mlpfit.report.expression import symbols

    syms = symbols(names)
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)), "log": lambda a: sympy.log(sympy.Abs(a)),
           "sin": sympy.sin, "cos": sympy.cos}

    def take(position: int):
        node = program[position]
        if isinstance(node, int):
            return syms[node], position + 1
        if isinstance(node, float):
            return sympy.Float(node), position + 1
        args, position = [], position + 1
        for _ in range(node.arity):
            arg, position = take(position)
            args.append(arg)
        return ops[node.name](*args), position

    return take(0)[0]


def run_operon_alone(X, y, names) -> str | None:
    from pyoperon.sklearn import SymbolicRegressor

    from mlpfit.report import operon
    from mlpfit.report.expression import to_text

    model = SymbolicRegressor(allowed_symbols=operon.SYMBOLS, objectives=["r2", "length"],
                              max_length=operon.MAX_LENGTH, population_size=operon.POPULATION, generations=1000,
                              max_evaluations=operon.EVALUATIONS * operon.RESTARTS, optimizer_iterations=5,
                              n_threads=1, random_state=0, model_selection_criterion="bayesian_information_criterion")
    model.fit(X, y)
    variables = {h: names[int(v[1:]) - 1] for h, v in model.variables_.items()}
    expr = operon.tree_to_sympy(model.model_, variables)
    return None if expr is None else to_text(expr)


def timed(function, *args):
    start = time.perf_counter()
    try:
        result = function(*args)
    except Exception as error:  # noqa: BLE001 - one tool failing on one law is a row, not the end
        result = f"error: {error}"[:80]
    return result, time.perf_counter() - start


def csv_case(folder: str) -> tuple[str, str | None, bool, float]:
    name, truth, box = CSV_LAW
    names = list(box)
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(*box[n], 500) for n in names])
    from mlpfit.report.expression import evaluator, from_text

    y = evaluator(from_text(truth, names), names)(X)
    y = y * (1 + 0.01 * rng.standard_normal(len(y)))
    path = os.path.join(folder, "measurements.csv")
    with open(path, "w") as f:
        f.write("m,v,E\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(X[:, 0].tolist(), X[:, 1].tolist(), y.tolist())))
    formula, fit_s, read_s = run_mlpfit(path, ["--target", "E"], os.path.join(folder, "csv-run"))
    return name, formula, recovered(formula, truth, names, list(box.values())), fit_s + read_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated law names (default: all)")
    parser.add_argument("--skip-anchors", action="store_true", help="mlpfit only")
    parser.add_argument("--anchors-only", action="store_true", help="gplearn and pyoperon only (run beside a --skip-anchors run)")
    args = parser.parse_args()
    from mlpfit.data.sources.formula import parse_formula

    laws = [law for law in REQUIRED + OTHERS if not args.only or law[0] in args.only.split(",")]
    tally = {"mlpfit": 0, "gplearn": 0, "operon": 0}
    print(f"{'law':<17}{'mlpfit':>8}{'fit s':>7}{'read s':>7}{'gplearn':>9}{'s':>6}{'operon':>8}{'s':>6}  mlpfit's formula")
    with tempfile.TemporaryDirectory() as folder:
        for name, truth, domain in laws:
            names = list(parse_formula(truth).inputs)
            box = box_of(names, domain)
            if args.anchors_only:
                formula, fit_s, read_s = None, 0.0, 0.0
            else:
                (formula, fit_s, read_s), _ = timed(run_mlpfit, truth, ["--domain", domain], os.path.join(folder, name))
            ok = {"mlpfit": recovered(formula, truth, names, box)}
            row = f"{name:<17}{'yes' if ok['mlpfit'] else 'no':>8}{fit_s:>7.1f}{read_s:>7.1f}"
            if not args.skip_anchors:
                X, y = samples(truth, names, box)
                for tool, run in (("gplearn", run_gplearn), ("operon", run_operon_alone)):
                    text, seconds = timed(run, X, y, names)
                    ok[tool] = recovered(text, truth, names, box)
                    row += f"{'yes' if ok[tool] else 'no':>{9 if tool == 'gplearn' else 8}}{seconds:>6.1f}"
            for tool, good in ok.items():
                tally[tool] += good
            print(f"{row}  {formula}", flush=True)
        if not args.anchors_only:
            name, formula, ok, seconds = csv_case(folder)
            print(f"\nCSV ({name}): {'recovered' if ok else 'NOT recovered'} in {seconds:.1f} s: {formula}")
    shown = ", ".join(f"{tool} {count}/{len(laws)}" for tool, count in tally.items() if count or tool == "mlpfit")
    print(f"recovered: {shown}")


if __name__ == "__main__":
    main()
