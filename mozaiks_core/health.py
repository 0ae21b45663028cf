"""Liveness (``/health``) and readiness (``/ready``) probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mozaiks_core import __version__
from mozaiks_core.workspace_info import app_id

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """The process is up: answers without touching any backing service."""
    return JsonResponse({"status": "ok", "app_id": app_id(), "version": __version__})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("mozaiks:ready", "1", 5)
    if cache.get("mozaiks:ready") != "1":
        raise RuntimeError("cache did not return the value just written")


def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "ready.check"})
    message = async_to_sync(layer.receive)(channel)
    if message.get("type") != "ready.check":
        raise RuntimeError("channel layer returned an unexpected message")


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Every backing service answers: database, cache and channel layer. 503 names the failing one."""
    checks = {"database": _check_database, "cache": _check_cache, "channel_layer": _check_channel_layer}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as error:  # a readiness probe reports every failure instead of raising
            logger.warning("readiness check %s failed: %s", name, error)
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    healthy = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results, "version": __version__},
        status=200 if healthy else 503,
    )
