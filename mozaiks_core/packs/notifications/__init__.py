"""Notifications pack: in-app notifications with read state and per-user preferences."""
