"""Numbers as spreadsheets and shops write them: ``1,234.50``, ``$1,234``, ``12 %``, ``1.234,5 €``, ``-€3``.

Pure Python (no pandas), so the NumPy-only export carries the same rule: one function of a cell's
text, the file's decimal mark and its thousands separator. The percent sign is dropped, not divided
by: ``12%`` reads as 12, as the column's other cells (``12 %``, ``12``) would.
"""

from __future__ import annotations

import re

CURRENCY = "$€£¥₹₽₩₺¢"  # written before or after the number, with or without a space
_SHAPE = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")
_SYMBOLS = re.compile(rf"^([-+]?)\s*[{CURRENCY}]?\s*([-+]?)(.*?)\s*(?:%|[{CURRENCY}])?$")


def number_from_text(text: str, decimal: str = ".", thousands: str = ",") -> float | None:
    """The number a cell writes, or None if it writes something else (a word, a date, two numbers)."""
    match = _SYMBOLS.match(text.strip())
    if not match:
        return None
    sign_before, sign_after, body = match.groups()
    if sign_before and sign_after:
        return None
    if thousands:
        if thousands in body and not _grouped(body.split(decimal)[0], thousands):
            return None
        body = body.replace(thousands, "")
    if decimal != ".":
        if "." in body:
            return None
        body = body.replace(decimal, ".")
    if not _SHAPE.match(body):
        return None
    value = float(body)
    return -value if "-" in (sign_before + sign_after) else value


def _grouped(whole: str, thousands: str) -> bool:
    """Digits grouped by threes after the first group: 1,234,567 but not 12,34 (a list, or a decimal comma)."""
    groups = whole.lstrip("+-").split(thousands)
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
