"""Audit pack: an activity log of every domain event."""
