"""The worker profile: start each module's ``startup_service`` when a Celery worker is ready."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

from mozaiks_core.plugins.registry import get_workspace, import_dotted

logger = logging.getLogger(__name__)


def start_services() -> list[str]:
    """Call every module's ``startup_service`` extensions; a failing one is logged, the others still start."""
    started = []
    for module in get_workspace().modules.values():
        for entrypoint in module.startup_services:
            try:
                import_dotted(module.import_name, entrypoint)()
            except Exception:
                logger.exception("startup service %s of module %s failed", entrypoint, module.id)
                continue
            started.append(module.id)
    return started


def _on_worker_ready(**kwargs: Any) -> None:
    started = start_services()
    if started:
        logger.info("started module services: %s", ", ".join(started))


def connect_startup_services() -> None:
    """Connect once (``dispatch_uid``) to Celery's ``worker_ready`` signal."""
    worker_ready.connect(_on_worker_ready, dispatch_uid="mozaiks-module-startup-services", weak=False)
