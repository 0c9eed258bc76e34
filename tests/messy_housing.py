"""A housing table as people export it: an order ID from 50000, sale dates as text (with repeats), a
150-level district, areas and prices written with thousands separators, missing text cells.

price = 100 * area + a district's premium + a trend in the sale date + a condition's premium + noise,
so a model that reads the table right reaches R² near 0.99 and ranks ``area`` first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DISTRICTS = [f"D{k:03d}" for k in range(150)]
CONDITIONS = {"poor": -15_000.0, "fair": 0.0, "good": 10_000.0, "excellent": 25_000.0}
FIRST_DAY = pd.Timestamp("2020-01-01")


def housing(n: int = 3000, seed: int = 0, first_id: int = 50_000) -> tuple[pd.DataFrame, np.ndarray]:
    """(the table as numbers and texts, the true prices without noise)."""
    rng = np.random.default_rng(seed)
    premium = np.random.default_rng(99).normal(0, 20_000, len(DISTRICTS))  # the same districts in every table
    area = rng.uniform(500, 5000, n).round(0)
    district = rng.integers(0, len(DISTRICTS), n)
    day = rng.integers(0, 730, n)
    condition = rng.choice(list(CONDITIONS), n)
    rooms = np.clip((area / 700 + rng.normal(0, 1, n)).round(), 1, 9).astype(int)
    truth = 100 * area + premium[district] + 20.0 * day + np.array([CONDITIONS[c] for c in condition])
    price = truth + rng.normal(0, 8_000, n)
    frame = pd.DataFrame({
        "order_id": np.arange(first_id, first_id + n),
        "sale_date": [(FIRST_DAY + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in day],
        "district": [DISTRICTS[k] for k in district],
        "area": area,
        "rooms": rooms,
        "condition": condition.astype(object),
        "price": price.round(2),
    })
    frame.loc[rng.random(n) < 0.05, "condition"] = None
    frame.loc[rng.random(n) < 0.02, "district"] = None
    return frame, truth


def written(frame: pd.DataFrame, decimal: str = ".", thousands: str = ",") -> pd.DataFrame:
    """Areas and prices as text with thousands separators, as a spreadsheet exports them."""
    out = frame.copy()
    for name, places in (("area", 0), ("price", 2)):
        if name in out:
            out[name] = [_grouped(v, places, decimal, thousands) for v in out[name]]
    return out


def _grouped(value: float, places: int, decimal: str, thousands: str) -> str:
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def save_us(frame: pd.DataFrame, path) -> None:
    written(frame).to_csv(path, index=False)


def save_eu(frame: pd.DataFrame, path) -> None:
    """Semicolons, decimal commas, thousands points and a byte-order mark, as Excel writes in much of Europe."""
    written(frame, ",", ".").to_csv(path, index=False, sep=";", encoding="utf-8-sig")
