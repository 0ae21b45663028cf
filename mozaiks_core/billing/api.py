"""API endpoints of the billing app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["billing"])
