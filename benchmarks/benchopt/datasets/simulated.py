from benchopt import BaseDataset

from benchmark_utils import simulated


class Dataset(BaseDataset):
    """X (n, p) standard normal, β standard normal, y = sign(Xβ) (separable data)."""

    name = "simulated"
    parameters = {
        "n_samples, n_features": [(200, 500), (1000, 10), (100_000, 400)],
        "random_state": [27],
    }

    def get_data(self):
        X, y = simulated(self.n_samples, self.n_features, self.random_state)
        return dict(X=X, y=y)
