"""Standardisation, fitted on the training data only and stored with the model.

Images: x / 255, as the exercise does. Tables: (x − μ) / σ per feature, with μ and σ from the
training set (a constant feature keeps σ = 1). Sparse tables: x / max|x| per feature, with
max|x| from the training set (an all-zero feature keeps 1), scikit-learn's ``MaxAbsScaler``:
no centring, which would fill every zero, so X stays sparse. The same ``Scaling`` is applied
at predict time, so the model sees what it was trained on.
"""

from dataclasses import dataclass

import numpy as np

from logreg.errors import InvalidInputError


@dataclass(frozen=True)
class Scaling:
    """How raw features become the neuron's X: ``(X − mean) / spread``, per feature (row)."""

    kind: str  # "image" (/255), "standardize" (per-feature μ, σ), "maxabs" or "none"
    mean: np.ndarray  # (n_x, 1), or a number
    spread: np.ndarray  # (n_x, 1), or a number

    def apply(self, X):
        """Raw X (n_x, m) → scaled X, float64.

        Finite values near the float64 limit (1.7e308) are scaled without overflow; a finite
        value whose scaled value is beyond float64's range is refused, naming it. A SciPy
        sparse X stays sparse (kinds "maxabs" and "none"): the result is CSC (n_x, m), its
        transpose the CSR rows the estimator reads.
        """
        from scipy import sparse

        if sparse.issparse(X):
            return self._apply_sparse(X)
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (X - self.mean) / self.spread
            if np.isfinite(scaled).all():
                return scaled
            # x − μ overflowed (|x|, |μ| near the limit): halve both first, exact, same result
            scaled = (X / 2 - np.asarray(self.mean) / 2) / (np.asarray(self.spread) / 2)
        too_large = np.isfinite(X) & ~np.isfinite(scaled)
        if too_large.any():
            feature, example = np.argwhere(too_large)[0]
            raise InvalidInputError(
                f"feature {feature} of example {example} is {X[feature, example]:g}: too large "
                f"for this scaling (({X[feature, example]:g} − μ) / σ is beyond float64's "
                f"range); expected values like the training data's. Rescale that feature.")
        return scaled

    def _apply_sparse(self, X):
        """x / max|x| per feature on the non-zeros only, as ``MaxAbsScaler.transform``."""
        from sklearn.utils.sparsefuncs import inplace_column_scale

        if self.kind not in ("maxabs", "none"):
            raise InvalidInputError(
                f"the {self.kind!r} scaling cannot be applied to sparse data: it would fill "
                f"every zero (densify X). Give the data as the model was trained on them (a "
                f"dense table or images), or train on the sparse data.")
        rows = X.T.tocsr().astype(np.float64, copy=True)  # (m, n_x), one row per example
        if self.kind == "maxabs":
            inplace_column_scale(rows, 1.0 / np.ravel(self.spread))  # x · (1 / max|x|)
        return rows.T

    def to_dict(self):
        """The scaling as JSON-ready data (kind, mean and spread as lists), as model files
        record it."""
        return {"kind": self.kind, "mean": np.ravel(self.mean).tolist(),
                "spread": np.ravel(self.spread).tolist()}

    @classmethod
    def from_dict(cls, record, n_x):
        """Rebuild from a model file's record; refuses lengths that do not match n_x."""
        kind = record.get("kind")
        if kind not in SCALINGS:
            raise InvalidInputError(f"unknown scaling kind {kind!r}; expected one of "
                                    f"{sorted(SCALINGS)}.")
        mean, spread = (np.asarray(record.get(key), dtype=np.float64).reshape(-1, 1)
                        for key in ("mean", "spread"))
        for name, values in (("mean", mean), ("spread", spread)):
            # per feature, or one for all (max-abs: one mean 0, a spread per feature)
            entries = n_x if kind == "standardize" or (kind, name) == ("maxabs", "spread") \
                else 1
            if values.shape[0] != entries or not np.isfinite(values).all():
                raise InvalidInputError(
                    f"scaling {name} has {values.shape[0]} entries; expected {entries} finite "
                    f"number(s) for the kind {kind!r} (n_x = {n_x}).")
        if not (spread > 0).all():
            raise InvalidInputError("scaling spread holds a value ≤ 0; expected spreads > 0 "
                                    "(x is divided by them).")
        return cls(kind, mean, spread)


def image_scaling():
    """x / 255: pixel values 0..255 become 0..1 (the exercise's standardisation)."""
    return Scaling("image", np.zeros((1, 1)), np.full((1, 1), 255.0))


def standardize(X):
    """Per-feature mean and spread of training X (n_x, m); constant features get spread 1.

    Finite features near the float64 limit (±1.7e308), whose sums overflow, get their μ and σ
    computed on x / max|x| and scaled back: μ and σ are at most max|x|, so both are finite.
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = X.mean(axis=1, keepdims=True)
        spread = X.std(axis=1, keepdims=True)
        rows = ~(np.isfinite(mean) & np.isfinite(spread)).ravel()
        if rows.any():
            largest = np.abs(X[rows]).max(axis=1, keepdims=True)
            largest[largest == 0] = 1.0
            unit = X[rows] / largest  # entries in [−1, 1]: no sum overflows
            mean[rows] = unit.mean(axis=1, keepdims=True) * largest
            spread[rows] = unit.std(axis=1, keepdims=True) * largest
    if not (np.isfinite(mean).all() and np.isfinite(spread).all()):
        feature = int(np.flatnonzero(~(np.isfinite(mean) & np.isfinite(spread)))[0])
        raise InvalidInputError(
            f"feature {feature} holds values that are not finite numbers (NaN or infinity); "
            f"expected finite numbers to standardise. Remove or impute them first.")
    spread[spread == 0] = 1.0  # a constant feature: centre it, do not divide by 0
    return Scaling("standardize", mean, spread)


def max_abs(X):
    """x / max|x| per feature (row) of training X (n_x, m), dense or sparse: scikit-learn's
    ``MaxAbsScaler``, whose scale (1 for an all-zero feature) is the spread. No centring."""
    from sklearn.preprocessing import MaxAbsScaler

    scaler = MaxAbsScaler().fit(X.T)  # rows are examples there; a sparse X is never densified
    spread = scaler.scale_.reshape(-1, 1)
    if not np.isfinite(spread).all():
        feature = int(np.flatnonzero(~np.isfinite(spread.ravel()))[0])
        raise InvalidInputError(f"feature {feature} holds values that are not finite numbers "
                                f"(NaN or infinity); expected finite numbers. Remove or "
                                f"impute them first.")
    return Scaling("maxabs", np.zeros((1, 1)), spread)


def no_scaling():
    """The scaling that leaves the features as they are (mean 0, spread 1)."""
    return Scaling("none", np.zeros((1, 1)), np.ones((1, 1)))


SCALINGS = {"image": image_scaling, "standardize": standardize, "none": no_scaling,
            "maxabs": max_abs}
