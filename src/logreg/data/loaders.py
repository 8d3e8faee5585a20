"""Temporary: the names the command imported from the former loaders module, until it imports
them from ``logreg.data`` (removed then)."""

from logreg.data import (  # noqa: F401
    DEFAULT_IMAGE_SIZE,
    LABEL_SUFFIXES,
    SVMLIGHT_SUFFIXES,
    check_same_kind,
    check_source_kind,
    csv_columns,
    describe_kind,
    is_folder,
    is_svmlight,
    read_csv_table,
    read_sparse_npz,
    read_svmlight,
    source_kind,
    split_dataset,
)
