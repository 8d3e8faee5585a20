"""Surfaces on top of the library: the command (one module per sub-command), the playground, out-of-core training on Dask."""
