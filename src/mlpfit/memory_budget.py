"""How much memory mlpfit lets one piece of work take, checked *before* allocating it.

A lying file header or an option like ``--hidden 65536,65536`` would otherwise allocate tens of
GB and run until the kernel kills the process. The budget is 80% of the memory available when
the check runs (``MemAvailable`` on Linux, else physical memory), or the value of the
environment variable ``MLPFIT_MAX_MEMORY`` (bytes, or with a unit: ``500M``, ``8G``).
"""

from __future__ import annotations

import os
import re

from mlpfit.errors import UsageError

ENV = "MLPFIT_MAX_MEMORY"
FALLBACK = 8 * 2**30  # where the system does not say how much memory it has
SHARE = 0.8
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def budget() -> int:
    """Bytes one fit, data set or model may take."""
    text = os.environ.get(ENV, "").strip()
    if text:
        return parse_size(text)
    return int(SHARE * available())


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise UsageError(f"{ENV}={text!r} is not a size: write bytes or e.g. 500M, 8G")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**28 else f"{n / 2**20:.0f} MB"


def require(needed: float, what: str, fix: str, error=UsageError) -> None:
    """Raise ``error`` when ``needed`` bytes exceed the budget, with both numbers and the fix."""
    limit = budget()
    if needed > limit:
        raise error(f"{what} needs about {gib(needed)} of memory, more than the {gib(limit)} mlpfit may use "
                    f"(set {ENV} to change it): {fix}")
