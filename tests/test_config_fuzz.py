"""Fuzzing option parsing: any --hidden, --domain or --lr text is accepted or refused as a UsageError."""

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError

# Text built from the characters these options use, plus anything at all.
SPEC_CHARS = "0123456789,x*:=-+.eE none linfa_ \t"
option_text = st.one_of(st.text(alphabet=SPEC_CHARS, max_size=24), st.text(max_size=24))


@settings(max_examples=examples(1200), deadline=None)
@given(option_text)
@example("64x999999999999")  # found by this test: built a list of 10**12 widths before refusing it
def test_fuzz_hidden(text):
    try:
        sizes = cfg.parse_hidden(text)
    except UsageError as err:
        assert "--hidden" in str(err) or "hidden sizes" in str(err)
    else:
        assert all(isinstance(s, int) and 0 < s <= 65536 for s in sizes) and len(sizes) <= 64
        cfg.validate(cfg.FitConfig(model=cfg.ModelConfig(hidden=sizes)))


@settings(max_examples=examples(1200), deadline=None)
@given(option_text)
def test_fuzz_domain(text):
    try:
        domain = cfg.parse_domain(text)
    except UsageError as err:
        assert "--domain" in str(err) and "\n" not in str(err)
    else:
        intervals = domain.values() if isinstance(domain, dict) else [domain]
        assert all(math.isfinite(lo) and math.isfinite(hi) and lo < hi for lo, hi in intervals)


@settings(max_examples=examples(1200), deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), option_text))
def test_fuzz_lr(value):
    if isinstance(value, str):  # as click hands it over: text it could turn into a float
        try:
            value = float(value)
        except ValueError:
            return
    try:
        cfg.validate(cfg.FitConfig(train=cfg.TrainConfig(lr=value)))
    except UsageError as err:
        assert "--lr" in str(err)
    else:
        assert 0 < value <= 1e6
