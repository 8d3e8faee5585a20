"""What a --data (or --test-data) is, told from its name and the options given, before it is
read: a sparse table or not, a CSV or not; options that do not apply to it, and data of another
kind than the model's or the training data's, refused with a message saying why."""

from pathlib import Path

from logreg.data import BUILT_IN, describe_kind, is_folder, is_svmlight, source_kind
from logreg.errors import InvalidInputError

def check_density_by_name(source, labels, sparse, image_shape, n_x, expected):
    """Refuse, before it is read, a sparse table (svmlight, or an .npz with labels) where a
    dense table or images are expected, or a source that is no sparse table (a CSV, images)
    where a sparse table is."""
    if source in BUILT_IN:
        found = False
    elif sparse_source(source, labels):
        found = True
    elif is_sparse_npz_name(source):
        return  # an .npz without --labels: its content tells (checked once read)
    else:
        found = False
    if found and not sparse:
        raise InvalidInputError(f"{source!s:.200} is a sparse table; {expected} "
                                f"{describe_kind(image_shape, n_x)}. Give data of that kind.")
    if sparse and not found:
        raise InvalidInputError(f"{source!s:.200} is no sparse table; {expected} a sparse "
                                f"table of {n_x} features (svmlight, or a sparse .npz with "
                                f"--labels). Give data of that kind.")


def check_same_density(dataset, sparse, expected):
    """A sparse table where a dense one is expected, or the other way round: refused."""
    if dataset.sparse != sparse:
        found = "a sparse table" if dataset.sparse else "a dense table or images"
        wanted = "a sparse table (svmlight, or a sparse .npz with --labels)" if sparse \
            else "a dense table or images"
        raise InvalidInputError(f"{dataset.source} holds {found}; {expected} {wanted}. Give "
                                f"data of that kind.")


def check_data_options(args):
    """Refuse options that do not apply to the data given, rather than ignore them:
    --image-size and --grayscale shape a folder of images as it is read; --label-column names
    a column of a CSV."""
    data = str(args.data)
    if args.image_size is not None or args.grayscale:
        zarr = Path(data).suffix.lower() == ".zarr"
        if args.data in BUILT_IN or zarr or not is_folder(data):
            option = "--image-size" if args.image_size is not None else "--grayscale"
            kind = "zarr" if zarr else source_kind(data)
            what = {"zarr": "is a Zarr store of a table", "table": "is a table",
                    "images": "holds images stored at their own size and colours"}.get(
                        kind, "is not a folder of images")
            raise InvalidInputError(f"{option} applies to a folder of images, which are "
                                    f"resized as they are read; --data {data:.200} {what}. "
                                    f"Leave {option} out.")
    if args.label_column is not None:
        sources = [data] + ([str(args.test_data)] if args.test_data else [])
        if not any(is_csv(source) for source in sources):
            raise InvalidInputError(f"--label-column {args.label_column!r:.80} names a column "
                                    f"of a CSV; --data {data:.200} is no CSV (its labels are "
                                    f"where its format keeps them). Leave --label-column out.")
    check_labels_option("--labels", args.labels, "--data", data)
    check_labels_option("--test-labels", getattr(args, "test_labels", None), "--test-data",
                        args.test_data)


def check_labels_option(option, labels, data_option, source):
    """A labels file goes with a sparse .npz, whose labels are not in it; with anything else
    it is refused (other formats keep their labels themselves)."""
    if labels is None:
        return
    if source is None:
        raise InvalidInputError(f"{option} gives the labels of a sparse .npz {data_option}; "
                                f"there is no {data_option}. Give one, or leave {option} out.")
    if is_sparse_npz_name(source):
        return
    where = ("an svmlight file holds its labels (the first number of each line)"
             if is_svmlight(source) else "its labels are where its format keeps them")
    raise InvalidInputError(f"{option} gives the labels of a sparse .npz (written by "
                            f"scipy.sparse.save_npz); {data_option} {source!s:.200} is no "
                            f".npz: {where}. Leave {option} out.")


def is_sparse_npz_name(source):
    """Whether ``source`` names an .npz (not a built-in set): a sparse one with --labels."""
    return source not in BUILT_IN and Path(str(source)).suffix.lower() == ".npz"


def sparse_source(source, labels):
    """Whether a source is a sparse table, told from its name and options alone."""
    return source not in BUILT_IN and (is_svmlight(source) or (
        labels is not None and is_sparse_npz_name(source)))


def is_csv(source):
    """Whether ``source`` names a CSV (not a built-in set)."""
    return source not in BUILT_IN and Path(source).suffix.lower() == ".csv"
