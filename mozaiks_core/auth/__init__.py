"""Accounts, organizations, API keys and execution tokens."""
