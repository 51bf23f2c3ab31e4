"""Scheduled campaigns: the beat that starts each day's runs."""
