"""API of the plugin host: shell data, one operation per module action, module and plugin routers.

Module actions are mounted at ``/api/modules/<module>/<action>`` (queries answer GET and POST,
mutations POST) with their input schema in the OpenAPI document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Router
from ninja.throttling import AuthRateThrottle

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.security import api_auth
from mozaiks_core.parsing import TOO_DEEP, DocumentTooComplex, loads_json
from mozaiks_core.plugins.actions import ActionFailure, coerce_query, run_action
from mozaiks_core.plugins.registry import get_workspace, import_dotted, loaded_plugins
from mozaiks_core.plugins.shell import navigation_for, theme_config
from mozaiks_core.plugins.specs import ActionSpec, ModuleSpec

logger = logging.getLogger(__name__)
router = Router(tags=["plugins"])


class CallerRateThrottle(AuthRateThrottle):
    """Module actions per signed-in user (per IP when anonymous), across every module."""

    scope = "mozaiks-module-actions"

    def get_cache_key(self, request: HttpRequest) -> str:
        caller = getattr(request, "caller", None)
        ident = f"user-{caller.user.pk}" if caller is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


ACTION_THROTTLE = CallerRateThrottle(getattr(settings, "MOZAIKS_MODULE_ACTION_RATE", "600/m"))


@router.get("/navigation", auth=None, summary="The shell's navigation for the current visitor")
def navigation(request: HttpRequest) -> dict[str, Any]:
    """Navigation items (label, href, icon) filtered by sign-in state and the role in the active organization."""
    from mozaiks_core.account_menu import account_menu

    menu = account_menu(request)
    return {"items": navigation_for(request.user, menu.role if menu else None)}


@router.get("/theme-config", auth=None, summary="Brand colors, fonts, logo and favicon")
def theme(request: HttpRequest) -> dict[str, Any]:
    """The same theme the server-rendered shell uses, for JavaScript clients."""
    return theme_config()


def _read_input(request: HttpRequest, action: ActionSpec) -> Any:
    if request.method == "GET":
        return coerce_query(request.GET.dict(), action.input_schema)
    if not request.body:
        return {}
    try:
        return loads_json(request.body, "The request body")
    except DocumentTooComplex as exc:
        raise ActionFailure(400, "BODY_TOO_DEEP" if exc.reason == TOO_DEEP else "BODY_TOO_LARGE",
                            exc.message) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ActionFailure(400, "INVALID_JSON", f"the request body is not valid JSON: {exc}") from exc


def _action_view(module: ModuleSpec, action: ActionSpec) -> Callable[[HttpRequest], JsonResponse]:
    def view(request: HttpRequest) -> JsonResponse:
        caller = getattr(request, "caller", None)
        try:
            data = _read_input(request, action)
            if caller is None and action.auth != "public":
                caller = get_caller(request)
            result = run_action(module.id, action.id, data,
                                user=caller.user if caller else None,
                                organization=caller.organization if caller else None,
                                role=caller.role if caller else "",
                                correlation_id=request.headers.get("X-Correlation-ID", "")[:64])
        except ActionFailure as failure:
            return JsonResponse(failure.body, status=failure.status)
        return JsonResponse({"result": result})

    view.__name__ = f"module_{module.id}_{action.id}"
    return view


def _mount_actions(target: Router) -> None:
    for module in get_workspace().modules.values():
        for action in module.actions.values():
            extra = {"requestBody": {"content": {"application/json": {"schema": action.input_schema}}}}
            target.add_api_operation(
                f"/modules/{module.id}/{action.id}", ["GET", "POST"] if action.type == "query" else ["POST"],
                _action_view(module, action), auth=None if action.auth == "public" else api_auth,
                throttle=ACTION_THROTTLE,
                operation_id=f"module_{module.id}_{action.id}", summary=action.description or action.id,
                tags=[f"module: {module.id}"], url_name=f"module-{module.id}-{action.id}",
                openapi_extra=extra if action.type == "mutation" else None,
            )


def _mount_routers(target: Router) -> None:
    """Module ``runtime_extensions.yaml`` routers and plugin routers; a broken one is logged and skipped."""
    mounts: list[tuple[str, str, str]] = [
        (f"/modules/{module.id}", module.import_name, entrypoint)
        for module in get_workspace().modules.values() for entrypoint in module.api_routers
    ]
    mounts += [(f"/plugins/{loaded.name}", "", loaded.plugin.api_router) for loaded in loaded_plugins()
               if loaded.status == "loaded" and loaded.plugin is not None and loaded.plugin.api_router]
    for prefix, base, reference in mounts:
        try:
            extension = import_dotted(base, reference)
        except Exception:
            logger.exception("cannot mount API router %s at /api%s", reference, prefix)
            continue
        target.add_router(prefix, extension)


_mount_actions(router)
_mount_routers(router)
