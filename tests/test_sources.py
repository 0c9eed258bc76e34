"""TARGET dispatch and the data sources end to end: tables, classification, image sets."""

import gzip
import struct

import numpy as np
import pytest

from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
from mlpfit.errors import UsageError
from mlpfit.fitting.fit import fit
from mlpfit.data.sources import target_kind


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return str(path)


def test_target_kind(tmp_path):
    assert target_kind("curve10") == target_kind("digits") == "example"
    assert target_kind("data.csv") == "csv"
    assert target_kind(str(tmp_path)) == "idx"
    assert target_kind("x + 1") == "formula"
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(UsageError, match="not a .csv"):
        target_kind(str(other))


def noisy_table(tmp_path, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    truth = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 2] ** 2
    noisy = truth + rng.normal(0, 0.1, size=n)
    rows = [[*x.round(6), round(y, 6)] for x, y in zip(X, noisy)]
    return write_csv(tmp_path / "measurements.csv", ["a", "b", "c", "load"], rows)


def test_noisy_csv_is_learned_against_the_noiseless_truth(tmp_path):
    path = noisy_table(tmp_path)
    result = fit(FitConfig(DataConfig(target=path, target_columns=["load"])), save=False)
    rng = np.random.default_rng(99)
    X = rng.uniform(-2, 2, size=(2000, 3))
    truth = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 2] ** 2
    pred = result.fitted.predict(X)[:, 0]
    r2 = 1 - ((pred - truth) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()
    assert r2 >= 0.98 and result.dataset.inputs == ["a", "b", "c"]


def iris_like(tmp_path, n_per_class=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for name, center in (("setosa", (0, 0)), ("versicolor", (3, 0)), ("virginica", (0, 3))):
        for point in rng.normal(center, 0.6, size=(n_per_class, 2)):
            rows.append([*point.round(4), name])
    return write_csv(tmp_path / "iris.csv", ["petal", "sepal", "species"], rows)


def test_string_labels_classify_and_keep_their_names(tmp_path, cli):
    path = iris_like(tmp_path)
    run = str(tmp_path / "run")
    result = cli("fit", path, "--target", "species", "--out", run, "--json", "--epochs", "60")
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["task"] == "classify" and summary["classes"] == ["setosa", "versicolor", "virginica"]
    test = summary["metrics"]["test"]
    assert test["accuracy"] >= 0.9 and len(test["confusion"]) == 3 and len(test["precision"]) == 3

    new = write_csv(tmp_path / "new.csv", ["sepal", "petal"], [[0, 0], [0, 3], [3, 0]])
    predicted = cli("predict", run, "--input", new, "--json").json()
    assert predicted["labels"] == ["setosa", "versicolor", "virginica"]
    assert predicted["classes"] == summary["classes"] and len(predicted["probabilities"][0]) == 3
    header, row = cli("predict", run, "3", "0").out.strip().splitlines()  # the class with its probability
    assert header.split() == ["species", "probability"] and row.split()[0] == "versicolor"


def test_predict_input_names_the_missing_columns(tmp_path, cli):
    path = iris_like(tmp_path)
    run = str(tmp_path / "run")
    cli("fit", path, "--out", run, "-q", "--epochs", "2")
    partial = write_csv(tmp_path / "partial.csv", ["petal"], [[1]])
    result = cli("predict", run, "--input", partial)
    assert result.code == 2 and "sepal" in result.err


def test_task_override_regresses_integer_labels(tmp_path):
    rows = [[i % 7, (i % 7) * 2] for i in range(140)]
    path = write_csv(tmp_path / "ints.csv", ["x", "y"], rows)
    assert fit(FitConfig(DataConfig(target=path), train=TrainConfig(epochs=2)), save=False).dataset.task == "classify"
    result = fit(FitConfig(DataConfig(target=path, task="regress"), train=TrainConfig(epochs=2)), save=False)
    assert result.dataset.task == "regress"


def test_digits_reach_097_with_defaults():
    result = fit(FitConfig(DataConfig(target="digits")), save=False)
    assert result.summary["metrics"]["test"]["accuracy"] >= 0.97
    assert result.dataset.image_shape == (8, 8)


def write_idx(path, array, type_code=0x08):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(">u1").tobytes())


def tiny_idx_folder(folder, n=300, m=100, seed=0):
    """Two classes of 6x6 images: a bright left half or a bright right half, with noise."""
    rng = np.random.default_rng(seed)

    def images(count):
        labels = rng.integers(0, 2, size=count)
        pixels = rng.integers(0, 60, size=(count, 6, 6))
        for img, label in zip(pixels, labels):
            img[:, :3] += 150 * (label == 0)
            img[:, 3:] += 150 * (label == 1)
        return pixels.astype(np.uint8), labels.astype(np.uint8)

    folder.mkdir()
    for prefix, count in (("train", n), ("t10k", m)):
        X, y = images(count)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", X)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y)
    return str(folder)


def test_idx_folder_trains_and_tests_on_the_published_split(tmp_path):
    folder = tiny_idx_folder(tmp_path / "idx")
    result = fit(FitConfig(DataConfig(target=folder), train=TrainConfig(epochs=10)), save=False)
    assert result.summary["examples"]["test"] == 100 and result.summary["examples"]["train"] == 270
    assert result.summary["metrics"]["test"]["accuracy"] >= 0.95


def test_mnist_example_takes_data_dir(tmp_path):
    folder = tiny_idx_folder(tmp_path / "idx")
    config = FitConfig(DataConfig(target="mnist", data_dir=folder), ModelConfig(hidden=[16]), TrainConfig(epochs=3))
    result = fit(config, save=False)
    assert result.dataset.name == "mnist" and result.dataset.image_shape == (6, 6)


def test_fashion_mnist_from_debians_package_learns_quickly():
    """Debian's dataset-fashion-mnist (installed by scripts/setup): two epochs of a small net."""
    config = FitConfig(DataConfig(target="fashion-mnist"), ModelConfig(hidden=[64]), TrainConfig(epochs=2))
    result = fit(config, save=False)
    assert result.summary["examples"]["test"] == 10000
    assert result.summary["metrics"]["test"]["accuracy"] >= 0.8


def test_fashion_mnist_classes_are_garment_names(tmp_path, cli):
    folder = tiny_idx_folder(tmp_path / "fashion-mnist")  # labels 0 and 1: T-shirt/top and Trouser
    run = str(tmp_path / "run")
    fitted = cli("fit", folder, "--epochs", "5", "--hidden", "8", "--out", run, "--json")
    assert fitted.code == 0, fitted.err
    assert fitted.json()["classes"] == ["T-shirt/top", "Trouser"]  # what confusion.png and images.png label
    assert "Trouser" in open(f"{run}/report.html", encoding="utf-8").read()
    pixels = np.zeros((2, 36), dtype=int)
    pixels[0].reshape(6, 6)[:, :3] = 200  # bright left half: label 0
    pixels[1].reshape(6, 6)[:, 3:] = 200
    header = [f"px{r}_{c}" for r in range(6) for c in range(6)]
    new = write_csv(tmp_path / "new.csv", header, pixels.tolist())
    lines = cli("predict", run, "--input", new).out.splitlines()
    assert lines[0].split() == ["label", "probability"]
    assert [line.rsplit(None, 1)[0] for line in lines[1:]] == ["T-shirt/top", "Trouser"]


def test_only_fashion_folders_get_garment_names(tmp_path):
    from mlpfit.data.sources.images import is_fashion

    assert is_fashion("/usr/share/datasets/fashion-mnist", None) and is_fashion("/x/FashionMNIST/raw", None)
    assert is_fashion("/anything", "fashion-mnist") and not is_fashion("/home/fashionista/data/mnist/raw", "mnist")
