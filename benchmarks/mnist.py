"""Seed 001's MNIST recipe against scikit-learn and mlpfit, on the same data, in one run.

    python benchmarks/mnist.py                      # Fashion-MNIST from Debian's package
    python benchmarks/mnist.py --data-dir ~/mnist   # any MNIST-format folder

Rows:
  (a) seed 001 as written: a Dataset converting each image per item (ToTensor + Normalize),
      DataLoader batch 64, SGD lr 0.01, 5 epochs, 784-128-64-10 ReLU
  (b) scikit-learn MLPClassifier (128, 64), adam, batch 256, 10 epochs, scaled pixels
  (c) mlpfit with seed 001's hyperparameters (SGD lr 0.01, batch 64, 5 epochs, constant lr;
      note mlpfit's sgd uses momentum 0.9)
  (d) mlpfit's defaults for that shape (--hidden 128,64)
  (e) mlpfit's defaults (`mlpfit fit fashion-mnist`)
  (f) mlpfit on (b)'s budget: --hidden 128,64 --epochs 7 --batch-size 512 --lr 0.004 --dropout 0
      (the issue's bar: at least (b)'s accuracy in at most half its time)
  (g) mlpfit with (b)'s recipe: --hidden 128,64 --epochs 10 --batch-size 256 --dropout 0, adam,
      mlpfit's learning rate and schedule, and the engine and thread count mlpfit chooses for the work
      (on a CPU: the NumPy engine)
  (h) (g) on the torch engine (--engine torch), for the engines side by side
It prints seconds per epoch, total training seconds, test accuracy, and ratios against (a) and (b).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch
from torch import nn


def load(args):
    from mlpfit.data.sources.idx import find_dataset, load_idx_folder

    folder = args.data_dir or find_dataset("fashion-mnist")
    return folder, load_idx_folder(folder)


def seed_001(images, epochs=5):
    """The tutorial's loop, per-item transform included (torchvision's ToTensor + Normalize)."""
    from torch.utils.data import DataLoader, Dataset

    class PerItem(Dataset):
        def __init__(self, X, y):
            self.X, self.y = X, y

        def __len__(self):
            return len(self.X)

        def __getitem__(self, i):
            x = torch.from_numpy(self.X[i].astype(np.float32) / 255.0)[None]  # ToTensor
            return (x - 0.1307) / 0.3081, int(self.y[i])  # Normalize((0.1307,), (0.3081,))

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    loader = DataLoader(PerItem(images.train_images, images.train_labels), batch_size=64, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        for data, target in loader:
            optimizer.zero_grad()
            criterion(model(data), target).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        test = PerItem(images.test_images, images.test_labels)
        X = torch.stack([test[i][0] for i in range(len(test))])
        accuracy = (model(X).argmax(1).numpy() == images.test_labels).mean()
    return seconds, epochs, float(accuracy)


def sklearn_mlp(images, epochs=10):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = images.train_images.reshape(len(images.train_images), -1) / 255.0
    Xt = images.test_images.reshape(len(images.test_images), -1) / 255.0
    clf = MLPClassifier((128, 64), batch_size=256, max_iter=epochs, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, images.train_labels)
    seconds = time.perf_counter() - start
    return seconds, epochs, float(clf.score(Xt, images.test_labels))


def mlpfit_run(folder, **options):
    from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
    from mlpfit.fitting.fit import fit

    model = {k: options.pop(k) for k in ("hidden", "activation", "dropout") if k in options}
    config = FitConfig(DataConfig(target=folder), ModelConfig(**model), TrainConfig(**options))
    result = fit(config, save=False)
    s = result.summary
    print(f"    mlpfit: engine {s['engine']}, {s['threads']} thread(s)")
    return s["seconds"], s["epochs"], s["metrics"]["test"]["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="MNIST-format folder (default: Fashion-MNIST from Debian's package)")
    parser.add_argument("--only", default="abcdefgh", help="which rows to run, e.g. 'cd'")
    args = parser.parse_args()
    folder, images = load(args)
    print(f"data: {folder}  ({len(images.train_images)} train, {len(images.test_images)} test images)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}")
    rows = {
        "a": ("seed 001 as written (per-item DataLoader, SGD)", lambda: seed_001(images)),
        "b": ("scikit-learn MLPClassifier (128, 64)", lambda: sklearn_mlp(images)),
        "c": ("mlpfit, seed 001's hyperparameters", lambda: mlpfit_run(
            folder, hidden=[128, 64], activation="relu", dropout=0.0, optimizer="sgd", lr=0.01, batch_size=64,
            epochs=5, schedule="constant", patience=1000)),
        "d": ("mlpfit defaults, --hidden 128,64", lambda: mlpfit_run(folder, hidden=[128, 64])),
        "e": ("mlpfit defaults", lambda: mlpfit_run(folder)),
        "f": ("mlpfit, 7 epochs of batch 512 (scikit-learn's budget)", lambda: mlpfit_run(
            folder, hidden=[128, 64], dropout=0.0, epochs=7, batch_size=512, lr=0.004)),
        "g": ("mlpfit, scikit-learn's recipe (b)", lambda: mlpfit_run(
            folder, hidden=[128, 64], dropout=0.0, epochs=10, batch_size=256, patience=1000)),
        "h": ("mlpfit, scikit-learn's recipe (b), --engine torch", lambda: mlpfit_run(
            folder, hidden=[128, 64], dropout=0.0, epochs=10, batch_size=256, patience=1000, engine="torch")),
    }
    results = {}
    print(f"\n{'':3}{'setup':<56}{'s/epoch':>9}{'total s':>9}{'test acc':>10}")
    for key in args.only:
        name, run = rows[key]
        seconds, epochs, accuracy = run()
        results[key] = (seconds, accuracy)
        print(f"({key}) {name:<56}{seconds / epochs:>9.2f}{seconds:>9.1f}{accuracy:>10.4f}", flush=True)
    print()
    for base in "ab":
        if base not in results:
            continue
        for key, (seconds, accuracy) in results.items():
            if key != base:
                print(f"({key}) vs ({base}): {results[base][0] / seconds:5.2f}x faster in total, "
                      f"accuracy {accuracy - results[base][1]:+.4f}")


if __name__ == "__main__":
    main()
