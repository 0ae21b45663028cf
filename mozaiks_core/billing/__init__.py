"""Billing: plans, subscriptions, provider adapters and webhooks."""
