"""Image sets as datasets: scikit-learn's bundled 8x8 digits, and MNIST-format IDX folders.

Pixels stay uint8 in memory (MNIST as float64 would be 440 MB); the trainer converts them to
float32 on the device and standardizes them there, once, with one mean and std for all pixels
(seed 001's Normalize((0.1307,), (0.3081,)), computed from the data instead of hard-coded).
"""

# Deferred imports: scikit-learn's bundled sets load only for the digits example.

from __future__ import annotations

import os

import numpy as np

from mlpfit.data.dataset import Dataset
from mlpfit.data.limits import image_shape_problem
from mlpfit.data.sources.idx import load_idx_folder
from mlpfit.errors import DataError

# Fashion-MNIST's labels 0-9 name these garments (Zalando's README); plots and predict show the names.
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


def digits_dataset() -> Dataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.reshape(len(digits.images), -1).astype(np.uint8)  # values 0..16
    return _image_dataset("digits", X, digits.target.astype(np.int64), (8, 8),
                          note="scikit-learn's bundled 8x8 digits (1,797 images, 10 classes)")


def idx_dataset(folder: str, name: str | None = None) -> Dataset:
    images = load_idx_folder(folder)
    h, w = images.train_images.shape[1:]
    train = images.train_images.reshape(len(images.train_images), -1)
    test = images.test_images.reshape(len(images.test_images), -1)
    data = _image_dataset(name or os.path.basename(os.path.normpath(folder)) or "images",
                          np.concatenate([train, test]), np.concatenate([images.train_labels, images.test_labels]),
                          (h, w), note=f"MNIST-format images from {images.source}",
                          names=FASHION_CLASSES if is_fashion(folder, name) else None)
    data.fixed_test = len(test)  # the t10k files are the test set, as published
    return data


def is_fashion(folder: str, name: str | None) -> bool:
    """Fashion-MNIST by the example's name, or by a folder that says so (fashion-mnist, FashionMNIST/raw)."""
    parts = os.path.abspath(folder).lower().split(os.sep)[-2:]  # the folder and its parent, not the whole path
    return name == "fashion-mnist" or any("fashion" in part for part in parts)


def _image_dataset(name, X, labels, shape, note, names=None) -> Dataset:
    """``names``: what each label 0, 1, ... stands for; used when every label has one."""
    problem = image_shape_problem(tuple(int(s) for s in shape))
    if problem:
        raise DataError(f"{name}: the images' shape {tuple(shape)} {problem}: use smaller images (or fewer pixels)")
    classes = sorted(int(c) for c in np.unique(labels))
    index = {c: i for i, c in enumerate(classes)}
    Y = np.array([index[int(c)] for c in labels], dtype=np.int64) if classes != list(range(len(classes))) else labels
    if names is not None and all(0 <= c < len(names) for c in classes):
        classes = [names[c] for c in classes]
    inputs = [f"px{r}_{c}" for r in range(shape[0]) for c in range(shape[1])]
    return Dataset(name, X, Y, inputs, ["label"], task="classify", classes=classes, image_shape=tuple(shape),
                   notes=[note])


def pixel_statistics(X: np.ndarray) -> tuple[float, float]:
    """Mean and std over every pixel of a uint8 array, exactly and without a float copy."""
    counts = np.bincount(X.ravel(), minlength=256).astype(np.float64)
    values = np.arange(len(counts), dtype=np.float64)
    total = counts.sum()
    mean = (counts * values).sum() / total
    var = (counts * (values - mean) ** 2).sum() / total
    return float(mean), float(np.sqrt(var)) or 1.0
