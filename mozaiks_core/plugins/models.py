"""Models of the plugins app."""
