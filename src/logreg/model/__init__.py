"""The fitted neuron's faces: the scikit-learn estimator, inference (summary) and evaluation (figures and pictures)."""
