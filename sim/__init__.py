"""welfare-sim: traditional, NPM and network-governance welfare paradigms against the age wave.

The model reads top-down from :mod:`sim.model`; every mechanism lives in
:mod:`sim.mechanisms`; parameters are declared once in ``sim/params/registry.toml``.
"""

__version__ = "0.1.0"
