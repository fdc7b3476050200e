"""Reference solutions, one module per chapter."""
