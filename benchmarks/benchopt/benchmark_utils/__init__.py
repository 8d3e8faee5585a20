"""What the data sets and the solvers share: the simulated data and how curves are sampled."""

import numpy as np


def simulated(n_samples, n_features, random_state):
    """The benchmark's simulation: X (n, p) standard normal, β standard normal, y = sign(Xβ)."""
    rng = np.random.RandomState(random_state)
    X = rng.randn(n_samples, n_features)
    beta = rng.randn(n_features)
    return X, labels(X @ beta)


def labels(margins):
    """y = sign(Xβ) in {−1, 1} (a margin of exactly 0, as an empty sparse row gives: 1)."""
    return np.where(np.asarray(margins).ravel() >= 0, 1.0, -1.0)


def text_like(n_samples, n_features, nnz_per_row, random_state):
    """Documents as rows of a CSR matrix: Poisson lengths around ``nnz_per_row`` words, drawn
    by Zipf's law (the r-th most frequent word has probability ∝ 1/(r + 2.7), word ids
    shuffled), counts → sublinear tf-idf, rows L2-normalised (scikit-learn's TfidfTransformer);
    β standard normal and y = sign(Xβ), as the simulated data."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfTransformer

    rng = np.random.RandomState(random_state)
    p = 1.0 / (np.arange(n_features) + 2.7)
    p /= p.sum()
    lengths = np.maximum(1, rng.poisson(nnz_per_row, size=n_samples))
    words = rng.permutation(n_features)[rng.choice(n_features, size=lengths.sum(), p=p)]
    rows = np.repeat(np.arange(n_samples), lengths)
    counts = sp.csr_matrix((np.ones(len(words)), (rows, words)),
                           shape=(n_samples, n_features))
    counts.sum_duplicates()
    X = TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
    X.sort_indices()
    beta = rng.randn(n_features)
    return X, labels(X @ beta)


def next_iterations(n_iter):
    """The next run's iteration cap: 0, 1, ..., 5, then 1.2× the last (benchopt's default is
    1.5×): the time to a given suboptimality is read to within 20 %, for every solver alike."""
    return max(n_iter + 1, int(1.2 * n_iter))
