"""Talking to Voxpria: settings, errors, the API client, the limiter, the simulator, the CLI."""
