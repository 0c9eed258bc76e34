"""The fuzz tests' hypothesis profiles: fixed examples by default (CI), fresh and more with explore."""

from __future__ import annotations

import os
import subprocess
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))


def profile_in_fresh_process(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"}
    if env_value is not None:
        env["HYPOTHESIS_PROFILE"] = env_value
    code = ("import fuzzing; from hypothesis import settings; d = settings.default; "
            "print(d.derandomize, d.database is None, fuzzing.examples(100))")
    return subprocess.run([sys.executable, "-c", code], cwd=TESTS, env=env, capture_output=True, text=True,
                          check=True).stdout.split()


def test_fuzz_examples_are_fixed_by_default_so_ci_repeats_them():
    assert profile_in_fresh_process(None) == ["True", "True", "100"]


def test_the_explore_profile_draws_fresh_examples_and_more_of_them():
    assert profile_in_fresh_process("explore") == ["False", "False", "1000"]

