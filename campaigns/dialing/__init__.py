"""Dialing a campaign's rows: the engine, its policy, windows, spend, events."""
