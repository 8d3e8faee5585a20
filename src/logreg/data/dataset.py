"""The ``Dataset`` record every loader returns, and labels turned into class indices.

A data set in the notes' layout: X (n_x, m), Y (1, m) of class indices into ``classes``, where
the data came from and what their rows mean. ``index_labels`` makes Y of any labels (strings,
numbers, booleans), in the classes' order, or refuses labels a model does not know.
"""

from dataclasses import dataclass

import numpy as np

from logreg.core.checks import label_vector
from logreg.errors import InvalidInputError


@dataclass
class Dataset:
    """Raw features X (n_x, m), labels Y (1, m) of class indices, and what they mean.

    Y holds k (as a float) for an example of ``classes[k]``: for two classes the notes' 0/1,
    ``classes[1]`` the positive class. ``image_shape`` is (h, w, c) for images, None for tables;
    ``feature_names`` names the rows of X for tables. X is a NumPy array, or for a sparse table
    a SciPy sparse CSC matrix (n_x, m), whose transpose is the CSR rows the estimator reads;
    ``zero_based`` says whether an svmlight file's feature indices start at 0 (None for other
    sources).
    """

    X: np.ndarray
    Y: np.ndarray
    classes: list
    source: str
    image_shape: tuple = None
    feature_names: list = None
    label_column: str = None
    zero_based: bool = None

    @property
    def m(self):
        """The number of examples m (X's columns)."""
        return self.X.shape[1]

    @property
    def sparse(self):
        """Whether X is a SciPy sparse matrix."""
        from scipy import sparse

        return sparse.issparse(self.X)


def index_labels(labels, classes=None):
    """Any labels (strings, numbers, booleans) → Y (1, m) of class indices, and the classes.

    Without ``classes`` the classes are the labels' distinct values, sorted as ``np.unique``
    sorts them, at least two. Given ``classes`` (a model's, in its order), Y[i] = k where
    label i is classes[k], and labels outside them are refused. For two classes Y is the
    notes' 0/1, 1 for classes[1].
    """
    labels = label_vector(labels)
    found, inverse = np.unique(labels, return_inverse=True)
    if classes is None:
        if found.size < 2:
            raise InvalidInputError(
                f"the labels hold one class only ({shown_values(found.tolist())}); expected at "
                f"least two classes to tell apart. Add examples of another class.")
        classes = found
    position = {label: k for k, label in enumerate(np.asarray(classes).tolist())}
    unknown = [label for label in found.tolist() if not _known(label, position)]
    if unknown:
        raise InvalidInputError(
            f"the labels hold {shown_values(unknown)}, which the model does not know; expected "
            f"only {shown_values(np.asarray(classes).tolist())}.")
    index = np.array([position[label] for label in found.tolist()], dtype=np.float64)
    return index[inverse.reshape(-1)].reshape(1, -1), np.asarray(classes)


def _known(label, position):
    try:
        return label in position
    except TypeError:  # an unhashable label
        return False


def shown_values(values, limit=5):
    """The first ``limit`` of ``values`` as their reprs, comma-separated, and how many there
    are in all when there are more: for messages."""
    values = list(values)
    text = ", ".join(map(repr, values[:limit]))
    return text + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def labels_for(labels, classes, source=None):
    """Index labels against a model's classes, or find the classes of training labels."""
    try:
        Y, found = index_labels(labels, classes)
    except InvalidInputError as error:
        if source is None:
            raise
        raise InvalidInputError(f"{source}: {error}") from None
    return Y, [value.item() if hasattr(value, "item") else value for value in found]
