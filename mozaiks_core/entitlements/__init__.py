"""Entitlements: features, limits and metered quotas behind one fail-closed decision API."""
