"""The `dialer` command line: one module per group of commands."""
