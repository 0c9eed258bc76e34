"""What predict prints: output names, an ensemble's spread, and points outside the training box."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from mlpfit.report.predictions import as_frame, as_text


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A two-output formula and a two-member ensemble, trained briefly through the CLI."""
    from mlpfit.cli.main import main

    folder = tmp_path_factory.mktemp("predict")
    for name, argv in (("two", ["x, x**2", "--domain", "0:1", "--samples", "200", "--epochs", "150", "--hidden", "8"]),
                       ("pair", ["x1 + x2", "--domain", "0:1", "--samples", "200", "--epochs", "150", "--hidden", "8",
                                 "--ensemble", "2"])):
        with pytest.raises(SystemExit) as done:
            main(["fit", *argv, "--out", str(folder / name), "--quiet", "--no-plots"])
        assert done.value.code == 0
    table = folder / "classes.csv"  # a class from two numbers: predict prints a label
    table.write_text("a,b,label\n" + "".join(f"{i % 10 / 10},{i % 7 / 7},{'hi' if i % 10 / 10 + i % 7 / 7 > 1 else 'lo'}\n"
                                              for i in range(140)))
    with pytest.raises(SystemExit) as done:
        main(["fit", str(table), "--target", "label", "--epochs", "30", "--out", str(folder / "classes"), "--quiet",
              "--no-plots"])
    assert done.value.code == 0
    return folder


def test_one_point_of_a_classifier_prints_its_probability(runs, cli):
    """Was: only the label (with --input the probability came too)."""
    result = cli("predict", str(runs / "classes"), "0.9", "0.8")
    header, row = result.out.splitlines()
    assert header.split() == ["label", "probability"]
    label, probability = row.split()
    assert label in ("hi", "lo") and 0.5 <= float(probability) <= 1


def test_values_by_name_in_any_order(runs, cli):
    """Was: `predict RUN x1=0.5 x2=0.25` was refused ('x1=0.5' is not a number)."""
    positional = cli("predict", str(runs / "pair"), "0.5", "0.25", "--json").json()
    assert cli("predict", str(runs / "pair"), "x2=0.25", "x1=0.5", "--json").json() == positional
    assert cli("predict", str(runs / "classes"), "b=0.8", "a=0.9").out == cli("predict", str(runs / "classes"), "0.9",
                                                                            "0.8").out


@pytest.mark.parametrize("values, words", [(["x1=0.5", "0.25"], "every value by name or none"),
                                           (["x1=0.5", "x1=0.2"], "given twice"),
                                           (["x1=0.5"], "no value for input(s) 'x2'")])
def test_values_by_name_are_checked(runs, cli, values, words):
    result = cli("predict", str(runs / "pair"), *values)
    assert result.code == 2 and words in result.err and len(result.err.strip().splitlines()) == 1, result.err


def test_several_outputs_get_a_header_of_their_names(runs, cli):
    result = cli("predict", str(runs / "two"), "0.5")
    header, values = result.out.splitlines()
    outputs = json.loads((runs / "two" / "summary.json").read_text())["outputs"]
    assert re.split(r"\s{2,}", header) == outputs and len(outputs) == 2  # names may hold single spaces
    assert [float(v) for v in values.split()] == pytest.approx([0.5, 0.25], abs=0.05)


def test_an_ensembles_std_stands_beside_its_mean(runs, cli):
    result = cli("predict", str(runs / "pair"), "0.5", "0.25")
    mean, plus_minus, std = result.out.split()
    assert plus_minus == "±" and float(mean) == pytest.approx(0.75, abs=0.1) and float(std) >= 0
    assert cli("predict", str(runs / "pair"), "0.5", "0.25", "--json").json()["std"][0][0] == pytest.approx(float(std), rel=0.05)


def test_a_formula_point_outside_its_domain_is_flagged(runs, cli):
    inside = cli("predict", str(runs / "pair"), "0.5", "0.5", "--json")
    assert inside.json()["extrapolation"] == [[]] and inside.err == ""
    outside = cli("predict", str(runs / "pair"), "3", "0.5", "--json")
    assert outside.code == 0
    [flag] = outside.json()["extrapolation"][0]
    assert flag == {"input": "x1", "value": 3.0, "low": 0.0, "high": 1.0, "by": 2.0}
    assert "x1 = 3 is 2 above [0, 1], 200% of its width" in outside.err


def test_output_csv_holds_std_and_probabilities():
    inputs = pd.DataFrame({"a": ["1", "2"]})
    regression = as_frame(inputs, {"predictions": [[1.0], [2.0]], "std": [[0.1], [0.2]]}, ["y"])
    assert regression.columns.tolist() == ["a", "predicted_y", "std_y"]
    classes = {"predictions": [["cat"], ["dog"]], "labels": ["cat", "dog"], "classes": ["cat", "dog"],
               "probabilities": [[0.9, 0.1], [0.2, 0.8]]}
    frame = as_frame(inputs, classes, ["animal"])
    assert frame.columns.tolist() == ["a", "predicted_animal", "proba_cat", "proba_dog"]
    assert frame["proba_dog"].tolist() == [0.1, 0.8]
    assert as_text(classes, ["animal"], header=True).splitlines() == ["animal  probability", "cat     0.900",
                                                                      "dog     0.800"]
    assert as_text({**classes, "labels": ["cat"], "probabilities": [[0.9, 0.1]]}, ["animal"], header=True) == \
        "animal  probability\ncat     0.900"


def test_output_refuses_a_folder_and_a_missing_folder(runs, cli, tmp_path):
    folder = cli("predict", str(runs / "two"), "0.5", "--output", str(tmp_path))
    assert folder.code == 2 and "is a folder" in folder.err
    missing = cli("predict", str(runs / "two"), "0.5", "--output", str(tmp_path / "no" / "p.csv"))
    assert missing.code == 2 and "does not exist" in missing.err
