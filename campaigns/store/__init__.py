"""Where campaigns and rows live (SQLite or Redis), with the numbers' history."""
