"""One gradient step through the computation graph against the closed form, at cat size.

    .venv/bin/python benchmarks/graph_step.py

X is (12288, 209), the exercise's cat images /255 when ../shared/data/catvnoncat is there,
random pixels of the same shape otherwise. Prints the median of repeats of each and the ratio
(goal: graph ≤ 1.3 × closed form).
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine, median_seconds  # noqa: E402

from logreg import graph  # noqa: E402
from logreg.core import neuron


def cat_sized_data():
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "catvnoncat"
    if (folder / "train_catvnoncat.h5").is_file():
        from logreg.data import image_scaling, load_h5

        train = load_h5(folder / "train_catvnoncat.h5")
        return image_scaling().apply(train.X), train.Y, "cat images"
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(12288, 209)) / 255
    return X, (rng.random((1, 209)) < 0.35).astype(float), "random pixels"


def main(repeats=31):
    X, Y, what = cat_sized_data()
    w, b = np.full((X.shape[0], 1), 1e-4), 0.0
    closed = median_seconds(lambda: neuron.gradient_step(w, b, X, Y, 0.005), repeats)
    backprop = median_seconds(lambda: neuron.gradient_step(
        w, b, X, Y, 0.005, gradient=graph.loss_and_gradient), repeats)
    print(f"# one gradient step, X {X.shape[0]} × {X.shape[1]} ({what}), "
          f"median of {repeats}")
    print(f"# {machine()}")
    print(f"closed form          {closed * 1e3:8.3f} ms")
    print(f"through the graph    {backprop * 1e3:8.3f} ms")
    print(f"ratio graph / closed {backprop / closed:8.2f} ×  (goal ≤ 1.3)")
    return backprop / closed


if __name__ == "__main__":
    main()
