"""Scheduled campaigns: their file, cron times, memory between runs, exports."""
