"""API endpoints of the plugins app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["plugins"])
