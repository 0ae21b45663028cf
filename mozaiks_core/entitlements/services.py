"""The entitlement seams the runtime, plugins and gates call.

``decide`` answers "may this organization use this key" (fail closed); ``check_run_allowed``,
``check_token_budget`` and ``meter_llm_tokens`` are the runtime's authorization and usage
seams; ``capabilities_for`` and ``resolve_capability`` back ``/api/ai/capabilities`` and
``/api/ai/launch``. Denials carry the structured body of :func:`denial_body`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from mozaiks_core.auth.models import Organization
from mozaiks_core.auth.services import is_manager
from mozaiks_core.billing.catalog import MeterSpec
from mozaiks_core.entitlements import types as t
from mozaiks_core.entitlements.capabilities import CapabilitySpec, capabilities_by_workflow
from mozaiks_core.entitlements.decisions import (
    decide_for,
    decide_subject,
    entitlements_for,
    meter_decision,
    resolve_organization,
)
from mozaiks_core.entitlements.metering import (
    ConsumeResult,
    Reservation,
    Usage,
    UsageError,
    consume,
    record_many,
    record_many_pipelined,
    release,
    reserve,
)
from mozaiks_core.entitlements.types import CapabilityView, Decision, RunPermission, TokenBudget
from mozaiks_core.observability import metrics

T = TypeVar("T")

__all__ = [
    "CapabilityView", "ConsumeResult", "Decision", "LLMCall", "Reservation", "RunPermission", "TokenBudget",
    "UsageError", "capabilities_for", "check_run_allowed", "check_token_budget", "decide", "denial_body",
    "denial_status", "meter_llm_calls", "meter_llm_tokens", "quota_warning_percent", "release_llm_tokens",
    "reserve_llm_tokens", "resolve_capability", "token_meter_key", "upgrade_url",
    "workflow_run_meter_key",
]


def token_meter_key() -> str:
    """The meter LLM tokens are counted against (``MOZAIKS_TOKEN_METER``, default tokens_monthly)."""
    return getattr(settings, "MOZAIKS_TOKEN_METER", "tokens_monthly")


def quota_warning_percent() -> int:
    """From which share of a limit pages and chats warn (``MOZAIKS_QUOTA_WARNING_PERCENT``, default 80)."""
    return int(getattr(settings, "MOZAIKS_QUOTA_WARNING_PERCENT", 80))


def workflow_run_meter_key() -> str:
    """The meter workflow starts are counted against (``MOZAIKS_RUN_METER``, default workflow_runs_monthly)."""
    return getattr(settings, "MOZAIKS_RUN_METER", "workflow_runs_monthly")


def decide(subject: Any, key: str) -> Decision:
    """May ``subject`` (an Organization, a Caller or a request with a caller) use ``key``?

    Unknown keys deny (fail closed). Results are cached on the organization instance for the
    request, so deciding many keys costs at most two queries.
    """
    return decide_subject(subject, key)


def upgrade_url(key: str = "") -> str:
    """Where a denied caller can change plan: the pricing page, noting the key that was missing."""
    base = reverse("mozaiks_billing:pricing")
    return f"{base}?{urlencode({'key': key})}" if key else base


def denial_status(decision: Decision) -> int:
    """402 when some plan would grant the key (an upgrade fixes it), 403 otherwise."""
    return 403 if decision.reason in {t.UNKNOWN_KEY, t.NO_ORGANIZATION} else 402


def denial_body(decision: Decision) -> dict[str, Any]:
    """The structured denial: ``{error, key, reason, message, limit, used, remaining, resets_at, upgrade_url}``."""
    error = t.LIMIT_EXCEEDED if decision.reason == t.LIMIT_EXCEEDED else t.ENTITLEMENT_REQUIRED
    if decision.reason == t.LIMIT_EXCEEDED:
        message = f"The limit of {decision.key!r} ({decision.limit}) is used up on your plan."
    elif decision.reason == t.UNKNOWN_KEY:
        message = f"{decision.key!r} is not an entitlement any plan declares."
    elif decision.reason == t.NO_ORGANIZATION:
        message = "Choose an organization first."
    else:
        message = f"Your plan does not include {decision.key!r}."
    resets_at = decision.resets_at.isoformat() if decision.resets_at is not None else None
    return {"error": error, "key": decision.key, "reason": decision.reason, "message": message,
            "plan_id": decision.plan_id, "limit": decision.limit, "used": decision.used,
            "remaining": decision.remaining, "resets_at": resets_at, "upgrade_url": upgrade_url(decision.key)}


def _denied(decision: Decision) -> RunPermission:
    body = denial_body(decision)
    return RunPermission(False, body["error"], body["message"], body, denial_status(decision))


def _refused(code: str, message: str, status: int, **extra: Any) -> RunPermission:
    return RunPermission(False, code, message, {"error": code, "message": message, **extra}, status)


def check_token_budget(*, organization: Any) -> TokenBudget:
    """Called before each LLM call: is the organization's token budget exhausted? (fresh read)"""
    organization = resolve_organization(organization)
    if organization is None:
        return TokenBudget(exhausted=True, remaining=0)
    entitlements = entitlements_for(organization, fresh=True)
    key = token_meter_key()
    if key not in entitlements.meters and key not in entitlements.key_kinds:
        return TokenBudget()
    return _budget_from(decide_for(entitlements, key))


def _budget_from(decision: Decision) -> TokenBudget:
    if decision.reason in {t.ENTITLEMENT_REQUIRED, t.UNKNOWN_KEY}:
        return TokenBudget(exhausted=True, remaining=0, limit=0, used=decision.used, plan_id=decision.plan_id)
    exceeded = decision.limit is not None and (decision.used or 0) >= decision.limit
    return TokenBudget(exhausted=exceeded and not decision.soft, soft_warning=exceeded and decision.soft,
                       remaining=decision.remaining, limit=decision.limit, used=decision.used,
                       reserve=decision.limit is not None and not decision.soft, plan_id=decision.plan_id)


def reserve_llm_tokens(*, organization: Any, tokens: int, entitlements_max_age: float = 0.0) -> Reservation:
    """Admit one LLM call: hold its estimated ``tokens`` against a hard token limit (see :func:`reserve`).

    Refused when the budget left (limit minus used minus what calls in flight hold) cannot cover
    the estimate; the runtime then does not make the call. Recording the call's usage with
    ``LLMCall(reserved=...)`` settles the holding to the real tokens.
    """
    organization = resolve_organization(organization)
    if organization is None:
        return Reservation(False, 0, limit=0, reason=t.NO_ORGANIZATION)
    return reserve(organization, token_meter_key(), tokens, entitlements_max_age=entitlements_max_age)


def release_llm_tokens(*, organization: Any, tokens: int) -> None:
    """Give back what :func:`reserve_llm_tokens` held for calls that were never made or never recorded."""
    organization = resolve_organization(organization)
    if organization is not None:
        release(organization, token_meter_key(), tokens)


def meter_llm_tokens(*, organization: Any, user: Any, total_tokens: int, transaction_id: str) -> TokenBudget:
    """Record one LLM call's tokens (once per ``transaction_id``) and return the budget after it.

    Tokens already spent are always recorded, past any limit; a hard limit then reports
    ``exhausted`` so the runtime stops before the next call. Raises :class:`UsageError` on a
    negative or absurd quantity (nothing recorded). Zero tokens record nothing.
    """
    organization = resolve_organization(organization)
    if organization is None:
        return TokenBudget(exhausted=True, remaining=0)
    if total_tokens == 0:
        return check_token_budget(organization=organization)
    result = consume(organization, token_meter_key(), total_tokens, transaction_id, enforce=False,
                     user_id=getattr(user, "pk", None))
    if not result.duplicate:
        _report_to_provider(organization, result.meter, result.quantity, transaction_id)
    return check_token_budget(organization=organization)


@dataclass(frozen=True)
class LLMCall:
    """One LLM call to meter: its organization, user, tokens and unique transaction id."""

    organization: Any
    user: Any
    total_tokens: int
    transaction_id: str
    reserved: int = 0  # what :func:`reserve_llm_tokens` held for this call (released as it is recorded)


def meter_llm_calls(calls: Sequence[LLMCall], *, entitlements_max_age: float = 0.0) -> list[TokenBudget]:
    """:func:`meter_llm_tokens` for a batch of calls (the runtime's writer meters a commit at once).

    Same rules: tokens are recorded once per transaction id, past any limit, and each call gets
    the budget of its organization after the whole batch. Three queries per organization and
    batch instead of several per call; the entitlements are re-read when older than
    ``entitlements_max_age`` seconds (0: every batch), on one instance per organization kept
    for the process, whichever instances the calls carry.
    """
    return meter_llm_calls_later(calls, entitlements_max_age=entitlements_max_age, pipelined=False)()


def meter_llm_calls_later(calls: Sequence[LLMCall], *, entitlements_max_age: float = 0.0,
                          pipelined: bool = False) -> Callable[[], list[TokenBudget]]:
    """:func:`meter_llm_calls` in two steps: record now, call the result for the budgets.

    With ``pipelined`` (PostgreSQL, inside the caller's transaction) each organization's usage
    is one statement whose answer is read only when the result is called, which the event
    writer does after ``COMMIT`` (:func:`~mozaiks_core.entitlements.metering.record_many_pipelined`);
    the usage reports to the billing provider are queued then too, not through ``on_commit``.
    """
    organizations = [resolve_organization(call.organization) for call in calls]
    if entitlements_max_age > 0:
        organizations = [_long_lived(organization) for organization in organizations]
    grouped: dict[int, tuple[Organization, list[Usage]]] = {}
    for call, organization in zip(calls, organizations, strict=True):
        if organization is not None:
            usages = grouped.setdefault(organization.pk, (organization, []))[1]
            if call.total_tokens != 0:
                usages.append(Usage(call.total_tokens, call.transaction_id, getattr(call.user, "pk", None),
                                    call.reserved))
            elif call.reserved:
                release(organization, token_meter_key(), call.reserved)
    key = token_meter_key()
    answers: dict[int, Callable[[], TokenBudget]] = {}
    reports: list[Callable[[], None]] = []  # pipelined: sent by budgets(), which runs after the commit
    for organization_pk, (organization, usages) in grouped.items():
        if not usages:
            answers[organization_pk] = _known(check_token_budget(organization=organization))
            continue
        if pipelined:
            recorded = record_many_pipelined(organization, key, usages, entitlements_max_age=entitlements_max_age)
        else:
            recorded = _known(record_many(organization, key, usages, entitlements_max_age=entitlements_max_age))
        for usage in usages:
            report = functools.partial(_report_to_provider, organization, key, usage.quantity, usage.transaction_id,
                                       after_commit=not pipelined)
            if pipelined:
                reports.append(report)
            else:
                report()
        answers[organization_pk] = functools.partial(_token_budget_after, organization, key, recorded)

    def budgets() -> list[TokenBudget]:
        for report in reports:
            report()
        exhausted = TokenBudget(exhausted=True, remaining=0)
        by_organization = {organization_pk: answer() for organization_pk, answer in answers.items()}
        return [by_organization[organization.pk] if organization is not None else exhausted
                for organization in organizations]

    return budgets


def _known(value: T) -> Callable[[], T]:
    return lambda: value


def _token_budget_after(organization: Organization, key: str, recorded: Callable[[], tuple[MeterSpec, int]]
                        ) -> TokenBudget:
    meter, used = recorded()
    entitlements = entitlements_for(organization)
    if key not in entitlements.meters and key not in entitlements.key_kinds:
        return TokenBudget()
    if key in entitlements.meters:
        return _budget_from(meter_decision(entitlements, meter, used))
    return _budget_from(decide_for(entitlements, key))


# One instance per organization for the batches of a process, so the entitlements cached on it
# (re-read after ``entitlements_max_age``) serve every run's calls: each run holds its own
# instance, and taking whichever came first in a batch re-read them nearly every batch. Keyed
# by creation time as well as pk, so a reused pk (rolled-back test data) is another organization.
_LONG_LIVED: dict[tuple[int, Any], Organization] = {}
_LONG_LIVED_LIMIT = 10_000


def _long_lived(organization: Organization | None) -> Organization | None:
    if organization is None:
        return None
    key = (organization.pk, organization.created_at)
    shared = _LONG_LIVED.get(key)
    if shared is None:
        if len(_LONG_LIVED) >= _LONG_LIVED_LIMIT:
            _LONG_LIVED.clear()
        shared = _LONG_LIVED[key] = organization
    return shared


def _report_to_provider(organization: Organization, meter_key: str, quantity: int, transaction_id: str, *,
                        after_commit: bool = True) -> None:
    """Queue the usage report to the billing provider: when the caller's transaction commits, or
    now (``after_commit=False``: the caller has committed already)."""
    entitlements = entitlements_for(organization)
    meter = entitlements.meters.get(meter_key)
    if meter is None or not meter.provider_event_name:
        return
    from mozaiks_core.billing.services import report_usage, report_usage_after_commit

    queue = report_usage_after_commit if after_commit else report_usage
    queue(organization.pk, meter.provider_event_name, quantity, transaction_id)


def _is_manager(user: Any, organization: Organization, can_manage: bool | None) -> bool:
    """``can_manage`` as the request's credential allows (``Caller.can_manage``), else the user's role."""
    return is_manager(user, organization) if can_manage is None else can_manage


def _gate(spec: CapabilitySpec, user: Any, organization: Organization, can_manage: bool | None) -> RunPermission:
    """Whether ``spec``'s own rules (enabled, visibility, entitlement, plans) admit the caller."""
    if not spec.enabled:
        return _refused("CAPABILITY_DISABLED", f"{spec.label!r} is switched off.", 403,
                        capability_id=spec.capability_id)
    if spec.visibility == "admin" and not _is_manager(user, organization, can_manage):
        return _refused("CAPABILITY_FORBIDDEN", f"Only owners and admins may launch {spec.label!r}.", 403,
                        capability_id=spec.capability_id)
    entitlements = entitlements_for(organization)
    if spec.plans and entitlements.plan_id not in spec.plans:
        decision = Decision(False, t.ENTITLEMENT_REQUIRED, spec.entitlement or spec.capability_id,
                            plan_id=entitlements.plan_id)
        denial = _denied(decision)
        details = {**denial.details, "plans": list(spec.plans), "capability_id": spec.capability_id,
                   "message": f"{spec.label!r} needs one of the plans: {', '.join(spec.plans)}."}
        return RunPermission(False, denial.error_code, details["message"], details, 402)
    if spec.entitlement:
        decision = decide_for(entitlements, spec.entitlement)
        if not decision.granted:
            denial = _denied(decision)
            return RunPermission(False, denial.error_code, denial.message,
                                 {**denial.details, "capability_id": spec.capability_id}, denial.http_status)
    return RunPermission(True)


def _specs_for(workflow_name: str, capability_id: str) -> list[CapabilitySpec]:
    specs = capabilities_by_workflow([workflow_name])
    if capability_id:
        return [spec for spec in specs if spec.capability_id == capability_id]
    return specs


def check_run_allowed(*, user: Any, organization: Any, workflow_name: str, capability_id: str = "",
                      transaction_id: str = "", can_manage: bool | None = None) -> RunPermission:
    """May ``user`` (acting for ``organization``) start ``workflow_name`` now?

    Checks sign-in, the capability's gate, the token budget, then consumes one
    ``workflow_runs_monthly`` when the plan meters runs (``transaction_id``, e.g. the chat id,
    makes a retried start count once). Fail closed. Request handlers pass ``can_manage=
    caller.can_manage`` so an API key without ``manage`` cannot start admin-only capabilities;
    ``None`` (runs without a request, e.g. event reactions) uses the user's membership role.
    A refusal by an entitlement is counted (``mozaiks_quota_refusals_total``).
    """
    permission = _check_run(user=user, organization=organization, workflow_name=workflow_name,
                            capability_id=capability_id, transaction_id=transaction_id, can_manage=can_manage)
    if not permission.allowed and permission.error_code in QUOTA_REFUSALS:
        metrics.quota_refused(str(permission.details.get("key", "")), permission.error_code)
    return permission


QUOTA_REFUSALS = frozenset({t.ENTITLEMENT_REQUIRED, t.LIMIT_EXCEEDED, "TOKEN_BUDGET_EXCEEDED"})


def _check_run(*, user: Any, organization: Any, workflow_name: str, capability_id: str,
               transaction_id: str, can_manage: bool | None) -> RunPermission:
    if user is None or not getattr(user, "is_authenticated", False):
        return _refused("AUTHENTICATION_REQUIRED", "Sign in to start this workflow.", 401)
    organization = resolve_organization(organization) if organization is not None else None
    if organization is None:
        return _refused("ORGANIZATION_REQUIRED", "Choose an organization to start this workflow.", 403)
    specs = _specs_for(workflow_name, capability_id)
    if not specs:
        return _refused("CAPABILITY_NOT_FOUND", f"No capability {capability_id or workflow_name!r} runs "
                        f"workflow {workflow_name!r}.", 404, capability_id=capability_id)
    entitlements_for(organization, fresh=True)
    permissions = [_gate(spec, user, organization, can_manage) for spec in specs]
    if not any(permission.allowed for permission in permissions):
        return permissions[0]
    budget = check_token_budget(organization=organization)
    if budget.exhausted:
        key = token_meter_key()
        details = {**denial_body(Decision(False, t.LIMIT_EXCEEDED, key, limit=budget.limit, used=budget.used,
                                          remaining=0)), "error": "TOKEN_BUDGET_EXCEEDED"}
        details["message"] = "Your organization's token budget is used up; upgrade or wait for the next period."
        return RunPermission(False, "TOKEN_BUDGET_EXCEEDED", details["message"], details, 402)
    return _consume_run(user, organization, transaction_id)


def _consume_run(user: Any, organization: Organization, transaction_id: str) -> RunPermission:
    key = workflow_run_meter_key()
    entitlements = entitlements_for(organization)
    if key not in entitlements.meters:
        if key in entitlements.key_kinds:
            return _denied(Decision(False, t.ENTITLEMENT_REQUIRED, key, kind="meter", plan_id=entitlements.plan_id))
        return RunPermission(True)
    result = consume(organization, key, 1, transaction_id or f"run:{uuid.uuid4()}", user_id=user.pk)
    if result.granted:
        return RunPermission(True)
    meter = entitlements.meters[key]
    _, resets_at = entitlements.period(meter)
    return _denied(Decision(False, t.LIMIT_EXCEEDED, key, limit=result.limit, used=result.used, remaining=0,
                            resets_at=resets_at, kind="meter", plan_id=entitlements.plan_id))


def capabilities_for(*, user: Any, organization: Any, workflow_names: list[str],
                     can_manage: bool | None = None) -> list[CapabilityView]:
    """Every capability visible to the caller, with ``allowed`` (nothing is consumed).

    ``can_manage`` means what it does for :func:`check_run_allowed`: the credential's right when given.
    """
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    organization = resolve_organization(organization) if organization is not None else None
    views: list[CapabilityView] = []
    manager: bool | None = None
    for spec in capabilities_by_workflow(workflow_names):
        if not spec.enabled:
            continue
        if spec.visibility == "admin":
            if not signed_in or organization is None:
                continue
            manager = _is_manager(user, organization, can_manage) if manager is None else manager
            if not manager:
                continue
        message = ""
        if not signed_in or organization is None:
            allowed, reason = False, "AUTHENTICATION_REQUIRED" if not signed_in else "ORGANIZATION_REQUIRED"
        else:
            permission = _gate(spec, user, organization, can_manage)
            allowed, reason = permission.allowed, permission.error_code
            message = "" if allowed else _denial_words(spec, permission)
        views.append(CapabilityView(capability_id=spec.capability_id, workflow_name=spec.workflow, label=spec.label,
                                    description=spec.description, visibility=spec.visibility, allowed=allowed,
                                    reason=reason, ownership=spec.ownership, message=message))
    return views


def _denial_words(spec: CapabilitySpec, permission: RunPermission) -> str:
    """Why a capability is not allowed, naming the plans that include it ("Included in Pro and Team.")."""
    from mozaiks_core.billing.plans import plan_index

    if permission.error_code != t.ENTITLEMENT_REQUIRED:
        return permission.message
    index = plan_index()
    if spec.plans:
        granting = [index.plans[plan].label for plan in spec.plans if plan in index.plans]
    else:
        key = spec.entitlement
        granting = [rules.label for rules in index.plans.values()
                    if rules.features.get(key) or rules.limits.get(key, 0) != 0 or key in rules.meters]
    if not granting:
        return permission.message
    names = granting[0] if len(granting) == 1 else f"{', '.join(granting[:-1])} and {granting[-1]}"
    return f"Not in your plan: {spec.label} is included in {names}."


def resolve_capability(capability_id: str, workflow_names: list[str]) -> str | None:
    """The workflow a capability runs, or None when no such capability exists over these workflows."""
    for spec in capabilities_by_workflow(workflow_names):
        if spec.capability_id == capability_id:
            return spec.workflow
    return None
