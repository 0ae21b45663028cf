"""API endpoints of the entitlements app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["entitlements"])
