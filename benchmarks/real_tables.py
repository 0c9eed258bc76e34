"""Every table in ../shared/data/tables fitted with mlpfit's defaults (only --target named): the test
score and the training seconds, one line per table. Run from the repository root:

    PYTHONPATH=src python benchmarks/real_tables.py [FOLDER]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

TABLES = {"ames": "Sale_Price", "concrete": "compressive_strength", "sacramento": "price",
          "credit_data": "Status", "mlc_churn": "churn", "letters": "lettr"}


def main(folder: str) -> None:
    for name, target in TABLES.items():
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "mlpfit", "fit", os.path.join(folder, f"{name}.csv"),
                                   "--target", target, "--out", os.path.join(out, "run"), "--json", "--quiet"],
                                  capture_output=True, text=True)
            wall = time.perf_counter() - start
        if done.returncode:
            print(f"{name:<12} refused: {done.stderr.strip().splitlines()[-1]}")
            continue
        result = json.loads(done.stdout)
        test = result["metrics"]["test"]
        score = f"R² {test['r2'][0]:.3f}" if "r2" in test else f"accuracy {test['accuracy']:.3f}"
        print(f"{name:<12} {score:<16} training {result['seconds']:.2f} s, whole process {wall:.1f} s, "
              f"{len(result['inputs'])} inputs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data", "tables"))
