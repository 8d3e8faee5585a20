"""Data in the notes' layout: checks, images as columns, standardisation and loaders.

Everything a user hands in passes through here once and comes out as X of shape (n_x, m) (a
NumPy array, or SciPy sparse for sparse tables) and Y of shape (1, m) of class indices, or as an
error that says exactly what is wrong and how to fix it. The modules: ``dataset`` (the record and
labels as class indices), ``images``, ``image_files`` (.h5 and folders of images), ``tables``
(CSV and NPZ), ``sparse_files`` (sparse .npz with a labels file, svmlight / LIBSVM),
``builtin`` (scikit-learn's sets), ``sources`` (one entry point, and the kind of a source),
``partition`` (the one split), ``split`` (what a model records of it, and which rows are its parts) and ``scaling``.
"""

from logreg.core.checks import (
    as_numeric_array,
    check_features,
    check_labels,
    check_test_data,
    check_training_data,
    encode_labels,
)
from logreg.data.builtin import (
    BUILT_IN,
    BUILT_IN_IMAGES,
    load_breast_cancer_table,
    load_digits10,
    load_digits_images,
    load_digits_task,
)
from logreg.data.dataset import Dataset, index_labels
from logreg.data.image_files import DEFAULT_IMAGE_SIZE, is_folder, load_h5, load_image_folder
from logreg.data.images import (
    check_image_size,
    flatten_images,
    image_to_vector,
    list_images,
    read_image,
    read_images,
    vectors_to_images,
)
from logreg.data.scaling import Scaling, image_scaling, max_abs, no_scaling, standardize
from logreg.data.sources import (
    check_same_kind,
    check_source_kind,
    describe_kind,
    load_dataset,
    source_kind,
)
from logreg.data.sparse_files import (
    LABEL_SUFFIXES,
    SVMLIGHT_SUFFIXES,
    is_svmlight,
    load_sparse_npz,
    load_svmlight,
    read_labels,
    read_sparse_npz,
    read_svmlight,
)
from logreg.data.partition import check_split_sizes, split_dataset, split_indices
from logreg.data.split import Rows, fingerprint, load_whole, model_rows, split_record, take
from logreg.data.tables import csv_columns, load_csv, load_npz, read_csv_table

__all__ = [
    "BUILT_IN", "BUILT_IN_IMAGES", "DEFAULT_IMAGE_SIZE", "Dataset", "LABEL_SUFFIXES", "Rows",
    "SVMLIGHT_SUFFIXES", "Scaling", "as_numeric_array", "check_features", "check_image_size",
    "check_labels", "check_same_kind", "check_source_kind", "check_split_sizes",
    "check_test_data", "check_training_data", "csv_columns", "describe_kind", "encode_labels",
    "fingerprint", "flatten_images", "image_scaling", "image_to_vector", "index_labels",
    "is_folder", "is_svmlight", "list_images", "load_breast_cancer_table", "load_csv",
    "load_dataset", "load_digits10", "load_digits_images", "load_digits_task", "load_h5",
    "load_image_folder", "load_npz", "load_sparse_npz", "load_svmlight", "load_whole",
    "max_abs", "model_rows", "no_scaling", "read_csv_table", "read_image", "read_images",
    "read_labels", "read_sparse_npz", "read_svmlight", "source_kind", "split_dataset",
    "split_indices", "split_record", "standardize", "take", "vectors_to_images",
]
