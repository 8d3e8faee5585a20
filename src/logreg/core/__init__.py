"""The notes' mathematics and the boundary: σ, softmax, the cost from Z, forward and backward, the exercise's functions; checks of what users hand in; which array library an array belongs to."""
