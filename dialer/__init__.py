"""The ground (settings, errors, clock, Redis keys, leases, limiter), the Voxpria API client and
its simulator, and the applications on top: the CLI, the web page, the webhook receiver, the
beat."""

__version__ = "0.1.0"  # the package's version (pyproject.toml reads it from here)
