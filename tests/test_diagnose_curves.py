"""Verdicts from the learning curves (issue 15): what the curves show, with the numbers, one verdict at
most, hints that are not the setting in use, and each hint, when followed, changes the verdict."""

import math

import pytest

from mlpfit.api import build_config
from mlpfit.fitting import diagnose
from mlpfit.fitting.diagnose_curves import (
    larger_hidden,
    learning_curves,
    smaller_hidden,
)
from mlpfit.fitting.fit import fit
from mlpfit.train.history import History


def curves_history(train, val, best_epoch=None, stopped_early=False) -> History:
    rows = [{"epoch": e + 1, "train_loss": t, "val_loss": v, "lr": 0.01, "seconds": 0.0}
            for e, (t, v) in enumerate(zip(train, val))]
    best = best_epoch or 1 + min(range(len(val)), key=val.__getitem__)
    return History(rows=rows, best_epoch=best, stopped_early=stopped_early)


def summary(train, val, task="regress", sizes=(10, 64, 64, 1), diagnostics=(), examples=354, outputs=("y",)):
    return {"task": task, "epochs": 600, "held_out": True, "diagnostics": list(diagnostics), "formula": None,
            "domain": None, "outputs": list(outputs), "parameters": 4929, "examples": {"train": examples},
            "architecture": {"sizes": list(sizes)}, "metrics": {"train": train, "val": val}}


# diabetes with the old defaults (the history.csv): best at epoch 29, memorized by epoch 600
DIABETES_TRAIN = [1.0 - 0.02 * e for e in range(29)] + [0.42 * 0.99 ** e for e in range(571)]
DIABETES_VAL = [1.0 - 0.019 * e for e in range(29)] + [0.46 + 1.6 * e / 570 for e in range(571)]


def test_diabetes_curves_say_overfit_not_underfit_with_the_numbers():
    # The kept (epoch 29) weights score training R² 0.508: the old verdict was "underfit, train longer".
    found = diagnose.after_evaluation(summary({"r2": [0.508]}, {"r2": [0.491]}),
                                      curves_history(DIABETES_TRAIN, DIABETES_VAL, best_epoch=29))
    assert [d.code for d in found] == ["overfit"]
    d = found[0]
    assert "lowest at epoch 29" in d.message and "by epoch 600" in d.message
    assert d.evidence["best_epoch"] == 29 and d.evidence["turned"] is True
    assert d.evidence["val_end"] > 3 * d.evidence["train_end"]
    assert "--epochs" not in d.hint and "--hidden 16,16" in d.hint


def test_validation_stalled_while_training_fell_is_not_underfit():
    # The new defaults on diabetes: validation stopped improving at epoch 41, training went on falling.
    train = [1.0 - 0.013 * e for e in range(41)] + [0.456 - 0.0024 * e for e in range(20)]
    val = [1.0 - 0.0132 * e for e in range(41)] + [0.457 + 0.0014 * e for e in range(20)]
    found = diagnose.after_evaluation(summary({"r2": [0.549]}, {"r2": [0.499]}),
                                      curves_history(train, val, best_epoch=41, stopped_early=True))
    assert found == []


def test_members_with_their_own_rows_are_judged_on_their_own_training_rows():
    # The ensemble's training rows include each member's held-out ones: its training R² there (0.76) is no
    # sign of underfitting when every member learnt its own rows (0.97, 0.95, 0.96).
    train = [1.0 - 0.015 * e for e in range(60)]
    val = [1.0 - 0.01 * e for e in range(60)]
    members = [{"metrics": {"train": {"r2": [r]}, "val": {"r2": [0.55]}}} for r in (0.97, 0.95, 0.96)]
    own = {**summary({"r2": [0.76]}, {"r2": [0.55]}), "members": members,
           "examples": {"train": 398, "val": 132, "member_val": 44}}
    assert "underfit" not in [d.code for d in diagnose.after_evaluation(own, curves_history(train, val))]
    shared = {**own, "examples": {"train": 354}}
    assert "underfit" in [d.code for d in diagnose.after_evaluation(shared, curves_history(train, val))]


@pytest.mark.parametrize("train_r2,val_r2", [(0.3, 0.3), (0.5, 0.2), (0.99, 0.6), (0.7, 0.69), (0.95, 0.2)])
@pytest.mark.parametrize("shape", ["turned", "falling", "flat", "parted"])
def test_overfit_and_underfit_never_both(train_r2, val_r2, shape):
    n = 100
    train = {"turned": [1 / (1 + e) for e in range(n)], "falling": [1 - e / 200 for e in range(n)],
             "flat": [0.5] * n, "parted": [1 - e / 200 for e in range(n)]}[shape]
    val = {"turned": [abs(e - 20) / 20 + 0.3 for e in range(n)], "falling": [1 - e / 210 for e in range(n)],
           "flat": [0.5] * n, "parted": [1 - min(e, 50) / 210 for e in range(n)]}[shape]
    found = diagnose.after_evaluation(summary({"r2": [train_r2]}, {"r2": [val_r2]}), curves_history(train, val))
    assert len(found) <= 1


def test_every_verdict_carries_its_numbers():
    for d in diagnose.after_evaluation(summary({"r2": [0.3]}, {"r2": [0.3]}),
                                       curves_history([0.7] * 50, [0.7] * 50)):
        assert d.code == "underfit" and d.evidence["train_score"] == 0.3 and d.evidence["still_falling"] is False
        assert "0.7" in d.message and d.to_dict()["evidence"]["epochs"] == 50


def test_hints_never_name_the_net_in_use():
    assert larger_hidden([128, 128]) == "256,256"
    assert larger_hidden([5]) == "64,64" and larger_hidden([64, 64]) == "128,128"
    assert larger_hidden([1024, 1024]) is None
    assert smaller_hidden([64, 64]) == "16,16" and smaller_hidden([4]) is None
    flat = curves_history([0.7] * 50, [0.7] * 50)
    d = diagnose.after_evaluation(summary({"r2": [0.3]}, {"r2": [0.3]}, sizes=(2, 128, 128, 1)), flat)[0]
    assert "--hidden 256,256" in d.hint and "128,128" not in d.hint


def test_a_fine_small_net_gets_no_advice():
    found = diagnose.after_evaluation(summary({"r2": [0.999]}, {"r2": [0.998]}, sizes=(2, 5, 1)),
                                      curves_history([1 / (1 + e) for e in range(50)], [1 / (1 + e) for e in range(50)]))
    assert found == []


def test_no_curves_for_a_diverged_run():
    assert learning_curves(curves_history([math.nan] * 3, [math.nan] * 3, best_epoch=None)) is None


# ---------------------------------------------------------------- follow each hint: the verdict changes


def codes(target, **options):
    result = fit(build_config(target, {"plots": False, "threads": 1, **options}), save=False)
    return {d["code"]: d for d in result.summary["diagnostics"]}


def option_value(hint: str, flag: str) -> str:
    return hint.split(flag + " ", 1)[1].split(")")[0].split()[0]


def test_follow_underfit_hint_train_longer():
    found = codes("x**2 + y**2", domain=(-14, 14), samples=500, hidden=[8], epochs=1)
    epochs = int(option_value(found["underfit"]["hint"], "--epochs"))
    assert "underfit" not in codes("x**2 + y**2", domain=(-14, 14), samples=500, hidden=[8], epochs=epochs)


def test_follow_underfit_hint_larger_net():
    wavy = dict(domain=(-1, 1), samples=500, epochs=300)
    found = codes("sin(6*x)*cos(6*y)", hidden=[2], **wavy)
    assert "still falling" not in found["underfit"]["message"]  # flat: more epochs would not help
    hidden = option_value(found["underfit"]["hint"], "--hidden")
    assert hidden == "64,64"
    assert "underfit" not in codes("sin(6*x)*cos(6*y)", hidden=hidden, **wavy)


def test_follow_overfit_hint_more_samples():
    wavy = dict(domain=(-1, 1), hidden=[64, 64], activation="relu", epochs=500, patience=500)
    found = codes("sin(6*x)*cos(6*y)", samples=120, **wavy)
    samples = int(option_value(found["overfit"]["hint"], "--samples"))
    assert "overfit" not in codes("sin(6*x)*cos(6*y)", samples=samples, **wavy)


def test_follow_overfit_hint_smaller_net():
    wavy = dict(domain=(-1, 1), samples=120, activation="relu", epochs=500, patience=500)
    found = codes("sin(6*x)*cos(6*y)", hidden=[64, 64], **wavy)
    hidden = option_value(found["overfit"]["hint"], "--hidden")
    assert hidden == "16,16"
    assert "overfit" not in codes("sin(6*x)*cos(6*y)", hidden=hidden, **wavy)


def test_follow_few_samples_hint_on_unsplit_points(cli, tmp_path):
    res = cli("fit", "curve10", "--epochs", "50", "--json", "--out", str(tmp_path / "a"))
    hint = {d["code"]: d for d in res.json()["diagnostics"]}["few_samples"]["hint"]
    hidden = option_value(hint, "--hidden")
    assert hidden != "5"  # curve10's own net
    res = cli("fit", "curve10", "--epochs", "50", "--hidden", hidden, "--json", "--out", str(tmp_path / "b"))
    assert "few_samples" not in {d["code"] for d in res.json()["diagnostics"]}


def test_follow_diverged_hint_smaller_lr():
    found = codes("x**2 + y**2", domain=(-14, 14), samples=300, optimizer="sgd", lr=1000.0, epochs=20)
    lr = float(option_value(found["diverged"]["hint"], "--lr"))
    assert "diverged" not in codes("x**2 + y**2", domain=(-14, 14), samples=300, optimizer="sgd", lr=lr, epochs=20)


def test_classification_curves_judge_overfit_on_accuracy_not_cross_entropy():
    # wine with the defaults: cross-entropy doubled after epoch 19 while accuracy held: not overfit (the kept
    # weights are epoch 19's), but overconfident past it (was: not flagged at all)
    train = [0.9 * 0.85 ** e for e in range(39)]
    val = [0.9 * 0.87 ** e for e in range(19)] + [0.0735 * 1.04 ** e for e in range(20)]
    history = curves_history(train, val, best_epoch=19, stopped_early=True)
    for row in history.rows:
        row["val_accuracy"] = 1.0 if row["epoch"] < 39 else 0.944
    found = diagnose.after_evaluation(summary({"accuracy": 0.99}, {"accuracy": 1.0}, task="classify"), history)
    assert [d.code for d in found] == ["overconfident"]
    assert "rose to 0.155 by epoch 39" in found[0].message and "--weight-decay 0.001" in found[0].hint
    history.rows[-1]["val_accuracy"] = 0.8  # accuracy falling with the loss: that is memorizing
    found = diagnose.after_evaluation(summary({"accuracy": 0.99}, {"accuracy": 1.0}, task="classify"), history)
    assert [d.code for d in found] == ["overfit"] and found[0].evidence["accuracy_end"] == 0.8
