"""The table of fit options is the one source of the CLI's options, the API's keywords and the checks."""

from __future__ import annotations

import inspect

import pytest

import mlpfit
from mlpfit.cli.fit import fit as fit_command
from mlpfit.config.from_options import config_default, help_text, to_config
from mlpfit.config.options import BY_KEY, OPTIONS
from mlpfit.config.schema import FitConfig
from mlpfit.errors import UsageError


def test_every_option_is_a_cli_option_with_the_tables_help():
    cli = {p.name: p for p in fit_command.params}
    for option in OPTIONS:
        assert option.key in cli, option.key
        assert option.cli_flag in cli[option.key].opts
        assert cli[option.key].help == help_text(option)


def test_every_option_names_a_real_config_field():
    config = FitConfig()
    for option in OPTIONS:
        assert hasattr(getattr(config, option.section), option.attribute), option.key


def test_the_api_takes_exactly_the_tables_keywords_and_names_the_closest_for_a_typo():
    with pytest.raises(UsageError, match="unknown option 'hiden': did you mean hidden"):
        mlpfit.fit("x", hiden=8)
    doc = inspect.getdoc(mlpfit.fit)
    assert all(f"{option.key}: " in doc for option in OPTIONS)


@pytest.mark.parametrize("key, given, expected", [
    ("hidden", "32x2", [32, 32]), ("hidden", [8, 4], [8, 4]), ("hidden", 16, [16]), ("hidden", "none", []),
    ("domain", (-2, 2), (-2.0, 2.0)), ("domain", {"x": (0, 1)}, {"x": (0.0, 1.0)}), ("domain", "-1:3", (-1.0, 3.0)),
    ("target_columns", ["a", "b"], ["a", "b"]), ("target_columns", "a,b", ["a", "b"]),
    ("epochs", "12", 12), ("lr", "0.5", 0.5), ("scale", False, False), ("force", True, True),
])
def test_cli_text_and_python_values_give_the_same_config(key, given, expected):
    option = BY_KEY[key]
    config = to_config("x", {key: given})
    assert getattr(getattr(config, option.section), option.attribute) == expected


@pytest.mark.parametrize("values, message", [
    ({"epochs": 0}, "--epochs must be a whole number > 0"),
    ({"epochs": 2.5}, "--epochs must be a whole number, got 2.5"),
    ({"lr": "fast"}, "--lr must be a number, got 'fast'"),
    ({"activation": "tahn"}, "did you mean tanh"),
    ({"ensemble": 5000}, "--ensemble must be a whole number > 0 and at most 4096"),
])
def test_limits_and_choices_come_from_the_table(values, message):
    with pytest.raises(UsageError, match=message):
        to_config("x", values)


def test_help_shows_the_config_default_where_no_rule_is_written():
    assert config_default(BY_KEY["optimizer"]) == "adam" and "Default: adam." in help_text(BY_KEY["optimizer"])
    assert ("Default: 64,64; images 512,256; tables 128,128 (64,64 for a regression under 1,000 training rows, "
            "256,128 from 10,000).") in help_text(BY_KEY["hidden"])
    assert "5 under 1,000 training rows" in help_text(BY_KEY["ensemble"])


def test_engine_auto_is_accepted_and_the_run_records_the_engine_it_chose(cli, tmp_path):
    """DESIGN.md's contract: --engine auto|torch|numpy, auto by default; the run folder says which engine trained.
    A small fit on the CPU is the NumPy engine's; L-BFGS only torch has."""
    import json

    for optimizer, engine in (("adam", "numpy"), ("lbfgs", "torch")):
        out = tmp_path / optimizer
        res = cli("fit", "x1 + x2", "--samples", "200", "--epochs", "5", "--hidden", "4", "--engine", "auto",
                  "--optimizer", optimizer, "--out", str(out), "--json", "--no-plots")
        assert res.code == 0, res.err
        assert res.json()["engine"] == engine
        assert json.load(open(out / "config.json"))["train"]["engine"] == engine
    assert FitConfig().train.engine == "auto"
