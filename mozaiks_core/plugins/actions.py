"""Run a module action: input schema, permission and entitlement gates, the handler, output schema.

The API and the declarative pages both call :func:`run_action`; every refusal is an
:class:`ActionFailure` carrying an HTTP status and a structured body naming what is wrong.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from jsonschema import Draft202012Validator

from mozaiks_core.entitlements.limits import LimitExceeded, enforce_limit
from mozaiks_core.entitlements.services import decide
from mozaiks_core.plugins.context import ModuleActionError, ModuleContext
from mozaiks_core.plugins.documents import key_path
from mozaiks_core.plugins.events import EventError
from mozaiks_core.plugins.registry import HandlerUnavailable, get_workspace, method_for, preflight_for
from mozaiks_core.plugins.specs import ActionSpec, ModuleSpec

logger = logging.getLogger(__name__)


class ActionFailure(Exception):
    """A refused or failed action: ``status`` and ``body`` are what the API answers."""

    def __init__(self, status: int, code: str, message: str, *, field: str = "",
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}

    @property
    def body(self) -> dict[str, Any]:
        """The JSON error body: ``{error, message, field?, ...details}``."""
        body: dict[str, Any] = {"error": self.code, "message": self.message, **self.details}
        if self.field:
            body["field"] = self.field
        return body


def resolve_action(module_id: str, action_id: str) -> tuple[ModuleSpec, ActionSpec]:
    """The module and action, or a 404 naming what exists."""
    module = get_workspace().modules.get(module_id)
    if module is None:
        raise ActionFailure(404, "MODULE_NOT_FOUND", f"no loaded module '{module_id}'")
    action = module.actions.get(action_id)
    if action is None:
        raise ActionFailure(404, "ACTION_NOT_FOUND", f"module '{module_id}' has no action '{action_id}'",
                            details={"actions": sorted(module.actions)})
    return module, action


def coerce_query(raw: dict[str, str], schema: dict[str, Any]) -> dict[str, Any]:
    """Query-string values typed by the action's input schema (``?page=2`` → ``{"page": 2}``)."""
    properties = schema.get("properties") or {}
    typed: dict[str, Any] = {}
    for key, value in raw.items():
        kind = (properties.get(key) or {}).get("type")
        try:
            if kind == "integer":
                typed[key] = int(value)
            elif kind == "number":
                typed[key] = float(value)
            elif kind == "boolean":
                typed[key] = value.lower() in {"1", "true", "yes", "on"}
            else:
                typed[key] = value
        except ValueError:
            typed[key] = value  # the schema check reports it with the field name
    return typed


def validate_input(action: ActionSpec, data: Any) -> None:
    """Raise a 422 naming the first invalid field."""
    errors = sorted(Draft202012Validator(action.input_schema).iter_errors(data), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    first = errors[0]
    field_name = key_path(first.absolute_path)
    if first.validator == "required":
        field_name = first.message.split("'")[1] if "'" in first.message else field_name
    elif first.validator == "additionalProperties" and "'" in first.message:
        field_name = first.message.split("'")[1]
    problems = [{"field": key_path(error.absolute_path), "message": error.message} for error in errors]
    raise ActionFailure(422, "INVALID_INPUT", f"input field '{field_name or '(root)'}' is invalid: {first.message}",
                        field=field_name, details={"problems": problems})


def check_gates(module: ModuleSpec, action: ActionSpec, *, user: Any, organization: Any, role: str) -> None:
    """Authentication, the action's permissions (organization roles), then its entitlement gate."""
    if action.auth == "public":
        return
    if user is None or not getattr(user, "is_authenticated", False) or organization is None:
        raise ActionFailure(401, "AUTHENTICATION_REQUIRED", "sign in to use this action")
    for permission_id in action.permissions:
        permission = module.permissions[permission_id]
        if role not in permission.roles:
            raise ActionFailure(403, "PERMISSION_DENIED",
                                f"'{module.id}.{action.id}' needs permission '{permission_id}', held by the "
                                f"organization roles {', '.join(permission.roles)}; your role is '{role}'",
                                details={"permission": permission_id})
    if action.entitlement_gate:
        decision = decide(organization, action.entitlement_gate)
        if not decision.granted:
            limit = decision.limit is not None or decision.reason == "LIMIT_EXCEEDED"
            raise ActionFailure(402 if limit else 403, "LIMIT_EXCEEDED" if limit else "ENTITLEMENT_REQUIRED",
                                f"your plan does not include '{action.entitlement_gate}' ({decision.reason})",
                                details={"key": action.entitlement_gate, "reason": decision.reason})


def _check_output(module: ModuleSpec, action: ActionSpec, result: Any) -> None:
    if action.output_schema is None or not settings.DEBUG:
        return
    errors = list(Draft202012Validator(action.output_schema).iter_errors(result))
    if errors:
        raise ActionFailure(500, "INVALID_OUTPUT",
                            f"'{module.id}.{action.id}' returned output that breaks its output_schema at "
                            f"'{key_path(errors[0].absolute_path) or '(root)'}': {errors[0].message}")


def run_action(module_id: str, action_id: str, data: Any, *, user: Any, organization: Any, role: str = "",
               correlation_id: str = "") -> Any:
    """Validate, gate and run one action; mutations run in one transaction with the events they publish."""
    module, action = resolve_action(module_id, action_id)
    check_gates(module, action, user=user, organization=organization, role=role)
    validate_input(action, data)
    try:
        method = method_for(module, action.handler_method)
    except HandlerUnavailable as exc:
        raise ActionFailure(503, "MODULE_UNAVAILABLE", str(exc)) from exc
    context = ModuleContext(module=module, user=user, organization=organization, role=role,
                            correlation_id=correlation_id or uuid.uuid4().hex)
    try:
        preflight = preflight_for(module)
    except HandlerUnavailable as exc:
        raise ActionFailure(503, "MODULE_UNAVAILABLE", str(exc)) from exc
    try:
        if preflight is not None:
            preflight(context, action.id, data)
        with transaction.atomic():
            if action.counted_limit:
                enforce_limit(organization, action.counted_limit["key"])
            result = method(context, data)
    except LimitExceeded as exc:
        raise ActionFailure(402, exc.code, exc.message, details=exc.details) from exc
    except ModuleActionError as exc:
        raise ActionFailure(exc.status, exc.code, exc.message, field=exc.field, details=exc.details) from exc
    except EventError as exc:
        raise ActionFailure(500, exc.code, f"'{module.id}.{action.id}' published an invalid event: {exc.message}",
                            field=exc.field) from exc
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        logger.exception("module action %s.%s failed (error id %s)", module.id, action.id, reference)
        detail = f": {exc!r}" if settings.DEBUG else ""
        raise ActionFailure(500, "HANDLER_FAILED", f"'{module.id}.{action.id}' failed{detail}; see the server log "
                            f"for error id {reference}", details={"error_id": reference}) from exc
    _check_output(module, action, result)
    return result
