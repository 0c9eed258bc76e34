"""The table recipe (config.defaults' TABLE_*, the encoding's squashed numbers) on a table as people keep
them: skewed numbers, a text column, noise, and new rows far outside anything seen in training."""

import numpy as np
import pandas as pd
import pytest

import mlpfit


def houses(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.lognormal(4.5, 0.5, n)  # skewed, as sizes and prices are
    age = rng.exponential(20, n)
    rooms = rng.integers(1, 8, n).astype(float)
    garage = rng.integers(0, 2, n).astype(float)  # a 0/1 flag
    lot = rng.lognormal(7, 0.8, n)
    kind = rng.choice(["house", "flat", "villa"], n, p=[0.5, 0.4, 0.1])
    value = (3 * np.log(area) + 2 * np.exp(-age / 15) + 0.4 * rooms + garage + 0.5 * np.log(lot)
             + np.select([kind == "villa", kind == "flat"], [2.0, -1.0], 0.0) + rng.normal(0, 0.3, n))
    return pd.DataFrame({"area": area, "age": age, "rooms": rooms, "garage": garage, "lot": lot, "kind": kind,
                         "value": value})


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    path = tmp_path_factory.mktemp("houses") / "houses.csv"
    houses(1500, 0).to_csv(path, index=False)
    return mlpfit.fit(str(path), target="value", threads=1, plots=False)


def test_a_table_gets_the_table_recipe(fitted):
    model, train = fitted.config.model, fitted.config.train
    assert (model.hidden, model.activation, model.dropout, train.weight_decay) == ([128, 128], "relu", 0.15, 0.0)
    assert train.patience == train.epochs  # the schedule runs to its end; the best epoch is kept
    squashed = [c.name for c in fitted.fitted.encoding.columns if c.center is not None]
    assert squashed == ["area", "age", "rooms", "lot"]  # not the 0/1 flag, not the text


def test_a_tables_regression_is_an_ensemble_whose_members_validate_on_their_own_rows(fitted):
    summary = fitted.summary
    assert fitted.config.model.ensemble == 3 and fitted.config.data.member_val == "own"
    examples = summary["examples"]
    assert examples["member_val"] * 3 == examples["val"]  # disjoint while they fit: 3 x 122 of 1,350 rows
    assert examples["train"] + examples["test"] == 1500  # together the members train on every non-test row
    assert [m["metrics"]["val"]["r2"][0] > 0.85 for m in summary["members"]] == [True] * 3
    steps = fitted.config.train.epochs * -(-(examples["train"] - examples["member_val"]) // fitted.config.train.batch_size)
    assert steps < 1500  # each member about 500 steps: the three cost about what one net did


def test_a_tables_classes_keep_one_net_and_the_ensemble_can_be_asked_for(tmp_path):
    frame = houses(600, 3)
    frame["value"] = np.where(frame["value"] > frame["value"].median(), "high", "low")
    frame.to_csv(tmp_path / "classes.csv", index=False)
    classes = mlpfit.fit(str(tmp_path / "classes.csv"), target="value", threads=1, plots=False, epochs=5)
    assert classes.config.model.ensemble == 1 and "member_val" not in classes.summary["examples"]
    shared = mlpfit.fit(str(tmp_path / "classes.csv"), target="value", threads=1, plots=False, epochs=5, ensemble=2,
                        member_val="shared")
    assert shared.summary["examples"] == {"train": 480, "val": 60, "test": 60}


def test_new_rows_are_predicted_well(fitted):
    new = houses(1000, 1)
    predicted = fitted.predict(new.drop(columns=["value"]))[:, 0]
    residual = new["value"] - predicted
    assert 1 - residual.var() / new["value"].var() > 0.9  # the noise leaves at most ~0.95


def test_an_input_far_outside_training_does_not_drive_the_prediction_far_out(fitted):
    """ReLU units extrapolate linearly in their inputs; squashed inputs stay within ±3, so a house a hundred
    times the largest area seen is predicted near the largest values seen, not hundreds of units away."""
    new = houses(5, 2).drop(columns=["value"])
    huge = new.assign(area=new["area"] * 1000, lot=new["lot"] * 1000)
    predicted = fitted.predict(huge)[:, 0]
    seen = houses(1500, 0)["value"]
    assert np.all(predicted < seen.max() + 0.5 * (seen.max() - seen.min()))
