"""Data in the notes' layout: checks, images as columns, standardisation and loaders.

Everything a user hands in passes through here once and comes out as X of shape (n_x, m) and Y
of shape (1, m), or as an error that says exactly what is wrong and how to fix it.
"""

from logreg.checks import (
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
    load_breast_cancer_table,
    load_csv,
    load_dataset,
    load_digits_task,
    load_h5,
    load_image_folder,
    load_npz,
)
from logreg.data.scaling import Scaling, image_scaling, no_scaling, standardize

__all__ = [
    "BUILT_IN", "Dataset", "Scaling", "as_numeric_array", "check_features", "check_labels",
    "check_test_data", "check_training_data", "encode_labels", "flatten_images",
    "image_scaling", "image_to_vector", "load_breast_cancer_table", "load_csv", "load_dataset",
    "load_digits_task", "load_h5", "load_image_folder", "load_npz", "no_scaling", "read_image",
    "read_images", "standardize", "vectors_to_images",
]
