"""What to call and how it went: contact lists, the row store, calling windows, the report."""
