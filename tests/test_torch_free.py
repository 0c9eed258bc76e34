"""A small CPU fit never imports torch: --engine auto trains it on the NumPy engine, and its run folder,
plots, report, predictions and mlpfit.load read NumPy arrays (importing torch costs 1.5-2 s)."""

import json
import pathlib
import subprocess
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"

PROGRAM = """
import json, sys
sys.path.insert(0, {src!r})
from mlpfit.cli.main import main
for argv in {commands!r}:
    sys.argv = ["mlpfit", *argv]
    try:
        main()
    except SystemExit as done:
        assert not done.code, (argv, done.code)
import mlpfit
result = mlpfit.load({run!r})
prediction = float(result.predict([[1.0, 2.0]])[0, 0])
print(json.dumps({{"torch": "torch" in sys.modules, "engine": result.summary["engine"], "prediction": prediction}}))
"""


def test_a_default_small_fit_with_its_report_and_predictions_imports_no_torch(tmp_path):
    run = str(tmp_path / "run")
    commands = [["fit", "x**2 + y**2", "--domain", "-3:3", "--samples", "600", "--epochs", "300", "--out", run, "-q"],
                ["predict", run, "1", "2"], ["explain", run], ["report", run]]
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(src=str(SRC), commands=commands, run=run)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {**answer, "torch": False, "engine": "numpy"}
    assert abs(answer["prediction"] - 5.0) < 1.0  # a real fit of x² + y², read back without torch
    assert (tmp_path / "run" / "report.html").is_file() and (tmp_path / "run" / "units.png").is_file()


IMAGES = """
import json, sys
sys.path.insert(0, {src!r})
from mlpfit.cli.main import main
sys.argv = ["mlpfit", "fit", "digits", "--epochs", "3", "--out", {run!r}, "-q"]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
import mlpfit
summary = mlpfit.load({run!r}).summary
print(json.dumps({{"torch": "torch" in sys.modules, "engine": summary["engine"],
                   "accuracy": summary["metrics"]["test"]["accuracy"]}}))
"""


def test_an_image_fit_on_the_cpu_imports_no_torch_either(tmp_path):
    run = str(tmp_path / "digits")
    done = subprocess.run([sys.executable, "-c", IMAGES.format(src=str(SRC), run=run)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["torch"] is False and answer["engine"] == "numpy"
    assert answer["accuracy"] > 0.8  # 3 epochs of the default image net already read digits
    assert (tmp_path / "digits" / "images.png").is_file() and (tmp_path / "digits" / "report.html").is_file()
