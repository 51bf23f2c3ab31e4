"""The ground (settings, errors, clock, Redis keys, leases, limiter), the Voxpria API client and
its simulator, and the applications on top: the CLI, the web page, the webhook receiver, the
beat."""
