from benchopt import BaseDataset

from benchmark_utils import text_like


class Dataset(BaseDataset):
    """Text-like CSR data: sublinear tf-idf of Zipf-distributed words, rows L2-normalised,
    ~``nnz_per_row`` non-zeros a row; y = sign(Xβ), β standard normal."""

    name = "sparse"
    parameters = {
        "n_samples, n_features, nnz_per_row": [(50_000, 100_000, 50)],
        "random_state": [27],
    }

    def get_data(self):
        X, y = text_like(self.n_samples, self.n_features, self.nnz_per_row,
                         self.random_state)
        return dict(X=X, y=y)
