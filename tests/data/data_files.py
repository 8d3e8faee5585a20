"""Small data files the tests of ``logreg.data`` write: uniform RGB images and folders of
them, the exercise's .h5 layout, CSV rows, and random sparse rows (with a check that two sparse
matrices are equal). Imported by the test modules of this folder (``from data_files import
...``)."""

import csv

import h5py
import numpy as np
import scipy.sparse as sp
from PIL import Image


def save_rgb(path, colour, size=(6, 4)):
    """A uniform RGB image of Pillow size (width, height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def make_folder(root, counts, size=(6, 4)):
    """root/<class>/<i>.png, each class a uniform colour; returns root."""
    colours = {}
    for k, (name, count) in enumerate(counts.items()):
        colours[name] = ((k * 80) % 256, 255 - (k * 80) % 256, 30 * k % 256)
        for i in range(count):
            save_rgb(root / name / f"{i}.png", colours[name], size)
    return root, colours


def write_h5(path, **arrays):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    return path


def small_h5(path, split="train", m=4, grayscale=False):
    rng = np.random.default_rng(11)
    shape = (m, 3, 2) if grayscale else (m, 3, 2, 3)
    images = rng.integers(0, 256, size=shape, dtype=np.uint8)
    labels = np.array([0, 1] * (m // 2))
    write_h5(path, **{f"{split}_set_x": images, f"{split}_set_y": labels,
                      "list_classes": np.array([b"non-cat", b"cat"])})
    return images, labels


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def sparse_rows(m=40, n=12, seed=0, density=0.25):
    """A random sparse matrix of examples (m, n), CSR, with one all-zero column."""
    rows = sp.random(m, n, density=density, format="csr", random_state=seed) * 10 - \
        sp.random(m, n, density=density / 2, format="csr", random_state=seed + 1) * 3
    rows = rows.tolil()
    rows[:, 5] = 0
    return rows.tocsr()


def same_matrix(a, b):
    return a.shape == b.shape and (abs(a - b) > 0).nnz == 0
