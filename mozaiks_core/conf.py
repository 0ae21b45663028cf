"""The ``MOZAIKS_*`` settings with their documented defaults, read in one place.

Code reads ``mozaiks_settings().NAME`` rather than ``getattr(settings, ...)`` scattered around,
so every knob has one default and one docstring. ``docs/configuration.md`` mirrors this table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed


@dataclass(frozen=True)
class MozaiksSettings:
    """Typed view of the framework's settings (see docs/configuration.md)."""

    app_dir: Path
    workflow_roots: list[Path] = field(default_factory=list)
    llm_provider: str = "scripted"
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str = ""
    llm_script: str = ""
    run_executor: str = "asyncio"
    billing_provider: str = "local"
    ws_max_frame_bytes: int = 65536
    ws_ping_seconds: int = 45
    ws_outbox_frames: int = 2000
    ws_stall_seconds: float = 30
    ws_max_sockets_per_user: int = 50
    parse_max_depth: int = 64
    parse_max_bytes: int = 1_048_576
    parse_max_nodes: int = 100_000
    execution_token_minutes: int = 15
    pack_roots: list[Path] = field(default_factory=list)
    licensed_services: list[str] = field(default_factory=list)


@functools.cache
def mozaiks_settings() -> MozaiksSettings:
    """The typed settings view of ``django.conf.settings``, built once (sockets read it per frame).

    Rebuilt after any ``setting_changed`` signal (``override_settings``, pytest-django's
    ``settings`` fixture); settings are otherwise fixed for the life of a process.
    """
    return MozaiksSettings(
        app_dir=Path(getattr(settings, "MOZAIKS_APP_DIR", Path.cwd() / "app")),
        workflow_roots=[Path(root) for root in getattr(settings, "MOZAIKS_WORKFLOW_ROOTS", [])],
        llm_provider=getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted"),
        llm_model=getattr(settings, "MOZAIKS_LLM_MODEL", "gpt-4o-mini"),
        llm_base_url=getattr(settings, "MOZAIKS_LLM_BASE_URL", ""),
        llm_script=getattr(settings, "MOZAIKS_LLM_SCRIPT", ""),
        run_executor=getattr(settings, "MOZAIKS_RUN_EXECUTOR", "asyncio"),
        billing_provider=getattr(settings, "MOZAIKS_BILLING_PROVIDER", "local"),
        ws_max_frame_bytes=getattr(settings, "MOZAIKS_WS_MAX_FRAME_BYTES", 65536),
        ws_ping_seconds=getattr(settings, "MOZAIKS_WS_PING_SECONDS", 45),
        ws_outbox_frames=getattr(settings, "MOZAIKS_WS_OUTBOX_FRAMES", 2000),
        ws_stall_seconds=getattr(settings, "MOZAIKS_WS_STALL_SECONDS", 30),
        ws_max_sockets_per_user=getattr(settings, "MOZAIKS_WS_MAX_SOCKETS_PER_USER", 50),
        parse_max_depth=getattr(settings, "MOZAIKS_PARSE_MAX_DEPTH", 64),
        parse_max_bytes=getattr(settings, "MOZAIKS_PARSE_MAX_BYTES", 1_048_576),
        parse_max_nodes=getattr(settings, "MOZAIKS_PARSE_MAX_NODES", 100_000),
        execution_token_minutes=getattr(settings, "MOZAIKS_EXECUTION_TOKEN_MINUTES", 15),
        pack_roots=[Path(root) for root in getattr(settings, "MOZAIKS_PACK_ROOTS", [])],
        licensed_services=list(getattr(settings, "MOZAIKS_LICENSED_SERVICES", [])),
    )


def _forget_settings(**_: Any) -> None:
    mozaiks_settings.cache_clear()


setting_changed.connect(_forget_settings, dispatch_uid="mozaiks_core.conf.forget_settings")
