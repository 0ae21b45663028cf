"""The sample plugin's API, mounted at /api/plugins/sample/."""

from __future__ import annotations

from typing import Any

from ninja import Router

router = Router(tags=["sample plugin"])


@router.get("/hello", auth=None)
def hello(request: Any) -> dict[str, str]:
    """Proof that the plugin's router is mounted."""
    return {"hello": "from the sample plugin"}
