"""Models of the entitlements app."""
