"""Option values (text from the command line, or Python values) into a validated FitConfig, and
the help text of each option, both read from the table in config/options.py."""

from __future__ import annotations

import dataclasses
import difflib

from mlpfit.config import schema
from mlpfit.config.options import BY_KEY, Option
from mlpfit.errors import UsageError


def config_default(option: Option):
    """The config dataclass's own default for this option (None: chosen from the data)."""
    section = {"data": schema.DataConfig, "model": schema.ModelConfig, "train": schema.TrainConfig,
               "run": schema.RunConfig}[option.section]
    found = next(f for f in dataclasses.fields(section) if f.name == option.attribute)
    return found.default if found.default is not dataclasses.MISSING else found.default_factory()


def help_text(option: Option) -> str:
    """What ``--help`` says: the sentence, the default (its rule, or the config's value) and the choices."""
    parts = [option.help]
    if option.default:
        parts.append(f"Default: {option.default}.")
    elif option.kind not in ("flag", "off") and config_default(option) is not None:
        parts.append(f"Default: {config_default(option)}.")
    if option.choices:
        parts.append(f"One of: {', '.join(option.choices)}.")
    return " ".join(parts)


def convert(option: Option, value):
    """A value given on the command line (text) or in Python (text, number, list, tuple) as the config's type."""
    if value is None or option.kind in ("flag", "off"):
        return value
    if option.kind == "hidden":
        return schema.parse_hidden(value) if isinstance(value, str) else hidden_list(value)
    if option.kind == "domain":
        return schema.parse_domain(value) if isinstance(value, str) else python_domain(value)
    if option.kind == "columns":
        return schema.parse_columns(value if isinstance(value, str) else ",".join(map(str, value)))
    if option.kind in ("int", "float"):
        return number(option, value)
    return value if option.kind == "choice" else str(value)


def number(option: Option, value):
    try:
        converted = int(value) if option.kind == "int" else float(value)
    except (TypeError, ValueError):
        kind = "a whole number" if option.kind == "int" else "a number"
        raise UsageError(f"{option.cli_flag} must be {kind}, got {value!r}") from None
    if option.kind == "int" and isinstance(value, float) and value != converted:
        raise UsageError(f"{option.cli_flag} must be a whole number, got {value!r}")
    return converted


def hidden_list(value) -> list[int]:
    widths = [value] if isinstance(value, int) else list(value)
    if not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
        raise UsageError(f"--hidden {value!r} must be widths as whole numbers, e.g. 64,64 or [64, 64]")
    return schema.parse_hidden(",".join(map(str, widths)) or "none")


def python_domain(value):
    """(lo, hi) or {"x": (lo, hi), ...} from Python, checked by the CLI's parser."""
    def interval(pair, whole):
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise UsageError(f"--domain {whole!r} is not (lo, hi): write e.g. (-1, 1) or {{'x': (0, 1)}}") from None
        return schema.parse_domain(f"{lo!r}:{hi!r}")

    if isinstance(value, dict):
        return {str(k): interval(v, value) for k, v in value.items()}
    return interval(value, value)


def to_config(target: str, values: dict) -> schema.FitConfig:
    """A validated FitConfig from option values by key; None (or an absent key) keeps the config's default."""
    unknown = set(values) - set(BY_KEY)
    if unknown:
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, BY_KEY, n=2)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UsageError(f"unknown option {name!r}: {hint}the options are {', '.join(BY_KEY)}")
    config = schema.FitConfig(data=schema.DataConfig(target=target))
    for key, value in values.items():
        option = BY_KEY[key]
        if value is None:
            continue
        setattr(getattr(config, option.section), option.attribute, convert(option, value))
    return schema.validate(config)
