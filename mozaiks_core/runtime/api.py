"""API endpoints of the runtime app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["runtime"])
