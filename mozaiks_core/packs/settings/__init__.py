"""Settings pack: per-user and per-organization preferences that modules declare in ``contracts/settings.yaml``."""
