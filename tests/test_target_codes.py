"""Target codes: the same shrunk level means as scikit-learn's TargetEncoder, cross-fitted without its import."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.preprocessing import TargetEncoder

from mlpfit.data.sources.target_codes import FOLDS, POOLED, _folds, fit_codes, shrunk_means


def levels_and_rows(seed: int = 0, n: int = 2000):
    rng = np.random.default_rng(seed)
    level = rng.integers(0, 50, n)
    return rng, level, [f"l{k}" for k in level]


def reference(texts, y, kind: str) -> TargetEncoder:
    return TargetEncoder(target_type=kind).fit(np.array(texts, dtype=object)[:, None], y)


def test_regression_codes_equal_scikit_learns_shrunk_means():
    rng, level, texts = levels_and_rows()
    y = level * 0.3 + rng.normal(0, 3, len(level))
    codes, default, parts, train = fit_codes(texts, y, "regress", ["y"])
    sk = reference(texts, y, "continuous")
    for name, code in zip(sk.categories_[0], sk.encodings_[0]):
        assert codes[name][0] == pytest.approx(code, abs=1e-12)
    assert default == [pytest.approx(sk.target_mean_)] and parts == ["target"] and train.shape == (len(y), 1)


@pytest.mark.parametrize("classes, kind", [(("no", "yes"), "binary"), (("a", "b", "c"), "multiclass")])
def test_class_codes_equal_scikit_learns_one_probability_per_class(classes, kind):
    rng, level, texts = levels_and_rows(1)
    labels = np.array(classes)[(level + rng.integers(0, 2, len(level))) % len(classes)]
    codes, default, parts, train = fit_codes(texts, labels, "classify", ["y"])
    sk = reference(texts, labels, kind)
    for part, encodings in enumerate(sk.encodings_):
        for name, code in zip(sk.categories_[0], encodings):
            assert codes[name][part] == pytest.approx(code, abs=1e-12)
    assert parts == (["p(yes)"] if kind == "binary" else ["p(a)", "p(b)", "p(c)"])
    assert train.shape == (len(labels), len(parts))


def test_a_training_rows_code_never_holds_its_own_target():
    # noise in levels of four rows: a level's code from all its rows follows each row's own target; the
    # cross-fitted code comes from the other folds' rows only, and does not
    texts = [f"l{k // 4}" for k in range(4000)]
    y = np.random.default_rng(2).normal(size=4000)
    codes, _, _, train = fit_codes(texts, y, "regress", ["y"])
    every = np.array([codes[t][0] for t in texts])
    assert np.corrcoef(every, y)[0, 1] > 0.2
    assert abs(np.corrcoef(train[:, 0], y)[0, 1]) < 0.05


def test_a_level_unseen_in_the_other_folds_and_a_constant_target_get_the_mean():
    codes = shrunk_means(np.array([0, 0, 1]), np.array([[1.0], [3.0], [5.0]]), 3)
    assert codes[2, 0] == pytest.approx(3.0)  # level 2 has no rows here
    flat = shrunk_means(np.array([0, 1]), np.array([[2.0], [2.0]]), 2)
    np.testing.assert_array_equal(flat, [[2.0], [2.0]])


def test_rare_levels_share_the_pooled_code():
    texts = ["a"] * 10 + ["b"] * 10 + ["once", "twice", "twice"]
    y = np.r_[np.zeros(10), np.ones(10), 9.0, -9.0, -9.0]
    codes, _, _, _ = fit_codes(texts, y, "regress", ["y"])
    assert codes["once"] == codes["twice"] and POOLED not in codes


def test_folds_are_fixed_even_and_stratified():
    labels = np.array(["x"] * 50 + ["y"] * 25)
    folds = _folds(75, labels)
    np.testing.assert_array_equal(folds, _folds(75, labels))
    for fold in range(FOLDS):
        assert (folds[labels == "x"] == fold).sum() == 10 and (folds[labels == "y"] == fold).sum() == 5


def test_encoding_a_table_does_not_import_scikit_learn():
    code = ("import sys; from mlpfit.data.sources.target_codes import fit_codes; "
            "fit_codes([f'l{k % 60}' for k in range(600)], list(range(600)), 'regress', ['y']); "
            "print('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
