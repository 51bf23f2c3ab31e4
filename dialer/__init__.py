"""Talking to Voxpria: settings, errors, the API client, the limiter, the simulator, the CLI."""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)
