"""Hypothesis settings for the fuzz tests: the same examples on every run by default, more on request.

The default profile ``ci`` derandomizes hypothesis (its examples are a fixed function of each test), so
a clean-clone CI run never fails on a new random example that the last run did not see. Looking for
new failures is a separate, longer run with fresh random examples (docs/testing.md):

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest -q -k fuzz

A failure it finds becomes an ``@example`` seed of its test, so the CI run then checks it for good.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXPLORE_FACTOR = 10  # the explore profile runs ten times each test's examples

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
# Built on hypothesis's own defaults, not on whatever is loaded: under CI=true hypothesis loads its "ci" profile,
# whose lack of an example database an explore run would otherwise inherit.
settings.register_profile("explore", parent=settings.get_profile("default"), derandomize=False, print_blob=True)
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """A fuzz test's number of examples under the selected profile."""
    return count * EXPLORE_FACTOR if PROFILE == "explore" else count
