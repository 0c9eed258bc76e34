import json
import math

import pytest

from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError


@pytest.mark.parametrize("text, sizes", [("64,64", [64, 64]), ("32x5", [32] * 5), ("none", []), ("8", [8]), (" 16 , 4 ", [16, 4])])
def test_parse_hidden(text, sizes):
    assert cfg.parse_hidden(text) == sizes


@pytest.mark.parametrize("text", ["-3", "64,-1", "abc", "0x5", "64,,64", "1x100", "100000"])
def test_parse_hidden_refuses(text):
    with pytest.raises(UsageError) as err:
        cfg.parse_hidden(text)
    assert "--hidden" in str(err.value) or "hidden" in str(err.value)


def test_hidden_message_quotes_the_value():
    with pytest.raises(UsageError, match="got -3"):
        cfg.parse_hidden("-3")


def test_parse_domain_forms():
    assert cfg.parse_domain("-14:14") == (-14.0, 14.0)
    assert cfg.parse_domain("x1=0:1,x2=-2:2") == {"x1": (0.0, 1.0), "x2": (-2.0, 2.0)}


def test_parse_domain_takes_the_formula_grammars_constants():
    """Was: --domain 0:pi and 0:2*pi were refused as not LO:HI."""
    assert cfg.parse_domain("0:pi") == (0.0, math.pi)
    assert cfg.parse_domain("0:2*pi") == (0.0, 2 * math.pi)
    assert cfg.parse_domain("x=-pi/2:pi/2,y=0:e") == {"x": (-math.pi / 2, math.pi / 2), "y": (0.0, math.e)}


def test_a_domain_in_constants_fits_from_the_command_line(cli, tmp_path):
    result = cli("fit", "sin(x)", "--domain", "0:2*pi", "--epochs", "2", "--samples", "200", "--out",
                 str(tmp_path / "run"), "--no-plots", "--json")
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["domain"] == [0.0, 2 * math.pi]


@pytest.mark.parametrize("text", ["1:0", "1", "a:b", "x=1", "0:inf", "nan:1", "=0:1", "0:x", "0:pi,pi",
                                  "0:__import__", "pi:0"])
def test_parse_domain_refuses(text):
    with pytest.raises(UsageError, match="--domain"):
        cfg.parse_domain(text)


def test_validate_suggests_the_closest_choice():
    config = cfg.FitConfig(model=cfg.ModelConfig(activation="rleu"))
    with pytest.raises(UsageError, match="did you mean relu"):
        cfg.validate(config)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("lr", -1.0), ("batch_size", -5), ("lr", float("nan"))])
def test_validate_refuses_nonpositive_numbers(field, value):
    config = cfg.FitConfig()
    setattr(config.train, field, value)
    with pytest.raises(UsageError, match=str(value) if value == value else "nan"):
        cfg.validate(config)


def test_name_lists_match_the_registries():
    from mlpfit.engines.torch.losses import LOSSES
    from mlpfit.engines.torch.model import ACTIVATIONS
    from mlpfit.engines.torch.optim import OPTIMIZERS
    from mlpfit.train.schedules import SCHEDULES

    assert set(cfg.ACTIVATIONS) == set(ACTIVATIONS)
    assert set(cfg.OPTIMIZERS) == set(OPTIMIZERS)
    assert set(cfg.LOSSES) == set(LOSSES)
    assert set(cfg.SCHEDULES) == set(SCHEDULES)


def test_config_round_trips_through_a_dict():
    config = cfg.FitConfig(data=cfg.DataConfig(target="x", domain={"x": (0.0, 1.0)}), model=cfg.ModelConfig(hidden=[3]))
    assert cfg.FitConfig.from_dict(config.to_dict()) == config
