"""Write diabetes.csv and new-patients.csv: scikit-learn's bundled diabetes data as a table users have.

The 442 patients of ``sklearn.datasets.load_diabetes(scaled=False)`` with the columns named as its
documentation describes them (s1..s6 are tc, ldl, hdl, tch, ltg, glu), plus what real tables carry:
a patient id, a text column (the WHO weight class of the body-mass index) and a few holes. The
target is ``progression``, the disease progression one year after baseline.

    python docs/examples/make_tables.py      # writes the two files beside this script
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu", "target": "progression"}


def weight_class(bmi: pd.Series) -> pd.Series:
    """The WHO classes of the body-mass index."""
    return pd.cut(bmi, [0, 18.5, 25, 30, np.inf], right=False,
                  labels=["underweight", "normal", "overweight", "obese"]).astype(str)


def diabetes_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = load_diabetes(scaled=False, as_frame=True).frame.rename(columns=NAMES)
    frame.insert(0, "patient", [f"P{k:04d}" for k in rng.permutation(len(frame)) + 1])
    frame.insert(4, "weight_class", weight_class(frame["bmi"]))
    frame.loc[rng.choice(len(frame), 6, replace=False), "bmi"] = np.nan  # the class is known, the number not
    frame.loc[rng.choice(len(frame), 3, replace=False), "bp"] = np.nan
    frame.loc[rng.choice(len(frame), 2, replace=False), "weight_class"] = np.nan
    return frame


def new_patients() -> pd.DataFrame:
    """Four new rows, columns in another order, no target: one hole, one age past the oldest, one unknown text."""
    return pd.DataFrame({
        "weight_class": ["overweight", "normal", "obese", "severely obese"],
        "age": [50, 85, 61, 45], "sex": [1, 2, 2, 1], "bmi": [27.5, 22.0, None, 41.0], "bp": [90, 82, 105, 99],
        "tc": [180, 160, 210, 195], "ldl": [110, 95, 130, 120], "hdl": [45, 60, 38, 40], "tch": [4, 3, 6, 5],
        "ltg": [4.6, 4.2, 5.1, 4.9], "glu": [90, 85, 101, 96], "patient": ["N001", "N002", "N003", "N004"],
    })


if __name__ == "__main__":
    diabetes_table().to_csv(os.path.join(HERE, "diabetes.csv"), index=False, float_format="%.10g")
    new_patients().to_csv(os.path.join(HERE, "new-patients.csv"), index=False)
