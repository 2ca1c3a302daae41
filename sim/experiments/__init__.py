"""Experiments: compare scenarios, sweep parameters, analyse sweeps (see docs/experiments.md).

Modules: :mod:`design` (experiment files and sampling designs), :mod:`executor` (local
processes or Dask, one interface), :mod:`store` (atomic per-run files, resume, Parquet
assembly), :mod:`compare`, :mod:`plots`, :mod:`report`, :mod:`analysis` (Sobol, Morris, PRIM).
"""
