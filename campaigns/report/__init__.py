"""What a run produced: the outcome report, its summary, analysis, metrics."""
