"""End to end through the command line, as DESIGN.md's contract states it."""

import os
import subprocess
import sys

import pytest

CONTRACT_KEYS = {"run", "inputs", "outputs", "seconds", "epochs", "parameters", "metrics", "diagnostics"}


def test_fit_json_then_predict(cli, tmp_path):
    run = str(tmp_path / "add")
    fitted = cli("fit", "x1 + x2", "--domain", "0:1", "--hidden", "none", "--out", run, "--json")
    assert fitted.code == 0, fitted.err
    summary = fitted.json()
    assert CONTRACT_KEYS <= set(summary)
    assert summary["run"] == run and summary["inputs"] == ["x1", "x2"] and summary["parameters"] == 3
    for split in ("train", "val", "test"):
        assert set(summary["metrics"][split]) >= {"mse", "r2"} and len(summary["metrics"][split]["r2"]) == 1
    assert isinstance(summary["diagnostics"], list)

    predicted = cli("predict", run, "2", "3", "--json")
    assert predicted.code == 0 and abs(predicted.json()["predictions"][0][0] - 5) < 0.01
    plain = cli("predict", run, "2", "3")
    assert abs(float(plain.out) - 5) < 0.01
    negative = cli("predict", run, "-1", "-2", "--json")  # negative numbers are values, not options
    assert abs(negative.json()["predictions"][0][0] + 3) < 0.01


def test_fit_prints_a_report_with_the_run_folder(cli, tmp_path):
    result = cli("fit", "sin(x)", "--samples", "500", "--epochs", "5", "--out", str(tmp_path / "r"))
    assert result.code == 0
    assert "R²" in result.out and str(tmp_path / "r") in result.out


def test_quiet_prints_nothing(cli, tmp_path):
    result = cli("fit", "x", "--samples", "100", "--epochs", "2", "--out", str(tmp_path / "r"), "--quiet")
    assert result.code == 0 and result.out == ""


def test_existing_run_folder_needs_force(cli, tmp_path):
    out = str(tmp_path / "r")
    assert cli("fit", "x", "--samples", "100", "--epochs", "2", "--out", out, "-q").code == 0
    again = cli("fit", "x", "--samples", "100", "--epochs", "2", "--out", out, "-q")
    assert again.code == 2 and "--force" in again.err
    assert cli("fit", "x", "--samples", "100", "--epochs", "2", "--out", out, "-q", "--force").code == 0


def test_examples_lists_the_seeds(cli):
    result = cli("examples")
    for name in ("addition", "curve10", "circle", "multi", "digits", "mnist", "fashion-mnist"):
        assert f"\n{name} " in "\n" + result.out


@pytest.mark.parametrize("argv, words", [
    (["fit", "__import__('os').system('touch pwned')"], "not allowed"),
    (["fit", "x", "--hidden", "-3"], "got -3"),
    (["fit", "x", "--activation", "rleu"], "relu"),
    (["fit", "x", "--domain", "3:1"], "LO < HI"),
    (["fit", "x", "--domain", "y=0:1"], "'y'"),
    (["fit", "x", "--lr", "-1"], "--lr"),
    (["fit", "x", "--epochs", "abc"], "--epochs"),
    (["fit", "x", "--bogus"], "--bogus"),
    (["fit", "log(x)", "--domain", "-2:-1"], "--domain"),
    (["fit", "3 + 4"], "no variables"),
    (["fit", "x", "--device", "tpu"], "--device"),
    (["fit", "x", "--settle", "1.5"], "--settle"),
    (["fit", "x", "--schedule", "onecycle", "--settle", "0.9"], "drop --settle"),
    (["predict", "/nonexistent/run", "1"], "does not exist"),
    (["predict", "/nonexistent/run", "abc"], "'abc'"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, argv, words):
    os.chdir(tmp_path)
    result = cli(*argv)
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("mlpfit: error:") and words in result.err
    assert "Traceback" not in result.err and not os.path.exists(tmp_path / "pwned")


def test_an_easy_function_settles_after_the_first_cycle_and_a_hard_one_trains_both(cli, tmp_path):
    """The default budget: x² + y² (the quick start) ends after 40% of its steps, at R² ≥ 0.9999; x·y·z,
    which the first cycle leaves at 0.9998, gets the second; --settle 0 always trains the whole budget."""
    def fit(formula, *options):
        result = cli("fit", formula, *options, "--no-plots", "--json", "--out", str(tmp_path / str(len(os.listdir(tmp_path)))))
        assert result.code == 0, result.err
        return result.json()

    easy = fit("x**2 + y**2", "--domain", "-14:14")
    assert easy["settled"] and not easy["stopped_early"] and easy["epochs"] == 75
    assert min(easy["metrics"]["test"]["r2"]) >= 0.9999
    hard = fit("x*y*z")
    assert not hard["settled"] and hard["epochs"] == 188 and min(hard["metrics"]["test"]["r2"]) >= 0.9999
    whole = fit("x**2 + y**2", "--domain", "-14:14", "--settle", "0")
    assert not whole["settled"] and whole["epochs"] == 188
    assert min(whole["metrics"]["test"]["r2"]) >= min(easy["metrics"]["test"]["r2"])


def test_predict_checks_the_number_of_values(cli, tmp_path):
    run = str(tmp_path / "r")
    cli("fit", "x + y", "--samples", "100", "--epochs", "2", "--out", run, "-q")
    result = cli("predict", run, "1")
    assert result.code == 2 and "2 input(s) (x, y), got 1" in result.err


def test_help_and_bad_options_answer_without_importing_torch():
    code = (
        "import sys\n"
        "from mlpfit.cli.main import main\n"
        "try:\n    main(['fit', 'x', '--hidden', '-3'])\n"
        "except SystemExit as e:\n    assert e.code == 2\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    helped = subprocess.run([sys.executable, "-m", "mlpfit", "fit", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--domain" in helped.stdout and "Examples" in helped.stdout


def test_console_script_runs_a_real_fit(tmp_path):
    """The installed entry point, in a fresh process: what a user types."""
    exe = os.path.join(os.path.dirname(sys.executable), "mlpfit")
    command = [exe] if os.path.exists(exe) else [sys.executable, "-m", "mlpfit"]
    run = str(tmp_path / "r")
    fitted = subprocess.run([*command, "fit", "addition", "--out", run, "--json"], capture_output=True, text=True)
    assert fitted.returncode == 0, fitted.stderr
    predicted = subprocess.run([*command, "predict", run, "2", "3"], capture_output=True, text=True)
    assert abs(float(predicted.stdout) - 5) < 0.01
