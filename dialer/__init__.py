"""The ground (top-level modules), the Voxpria API and its stand-in, and the applications."""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)
