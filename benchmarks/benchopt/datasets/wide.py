from benchopt import BaseDataset

from benchmark_utils import simulated


class Dataset(BaseDataset):
    """The simulation with many more features than examples: X (n, p), p ≫ n, y = sign(Xβ)."""

    name = "wide"
    parameters = {
        "n_samples, n_features": [(500, 20_000)],
        "random_state": [27],
    }

    def get_data(self):
        X, y = simulated(self.n_samples, self.n_features, self.random_state)
        return dict(X=X, y=y)
