"""What to call and how it went, by the row's journey: lists, store, dialing, schedule, report."""
