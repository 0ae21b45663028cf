"""Models of the runtime app."""
