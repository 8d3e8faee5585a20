"""Data in the notes' layout: checks, images as columns, standardisation and loaders.

Everything a user hands in passes through here once and comes out as X of shape (n_x, m) (a
NumPy array, or SciPy sparse for sparse tables) and Y of shape (1, m) of class indices, or as an
error that says exactly what is wrong and how to fix it.
"""

from logreg.core.checks import (
    as_numeric_array,
    check_features,
    check_labels,
    check_test_data,
    check_training_data,
    encode_labels,
)
from logreg.data.images import (
    flatten_images,
    image_to_vector,
    read_image,
    read_images,
    vectors_to_images,
)
from logreg.data.loaders import (
    BUILT_IN,
    Dataset,
    index_labels,
    load_breast_cancer_table,
    load_csv,
    load_dataset,
    load_digits10,
    load_digits_task,
    load_h5,
    load_image_folder,
    load_npz,
    load_sparse_npz,
    load_svmlight,
    read_labels,
)
from logreg.data.scaling import Scaling, image_scaling, max_abs, no_scaling, standardize

__all__ = [
    "BUILT_IN", "Dataset", "Scaling", "as_numeric_array", "check_features", "check_labels",
    "check_test_data", "check_training_data", "encode_labels", "flatten_images",
    "image_scaling", "image_to_vector", "index_labels", "load_breast_cancer_table", "load_csv",
    "load_dataset", "load_digits10", "load_digits_task", "load_h5", "load_image_folder",
    "load_npz", "load_sparse_npz", "load_svmlight", "max_abs", "no_scaling", "read_image",
    "read_images", "read_labels", "standardize", "vectors_to_images",
]
