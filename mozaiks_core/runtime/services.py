"""The runtime's actions: start chats, answer requests, cancel, meter usage, export.

HTTP endpoints, the WebSocket consumer, the admin and Celery tasks all call these functions;
each query is scoped to the calling user and the organization their credential acts for (a chat
of someone else, or of another organization, does not exist for them).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from mozaiks_core import workspace_info
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.tokens import ExecutionClaims, issue_execution_token
from mozaiks_core.db.fast_sql import update_where
from mozaiks_core.observability import tracing
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest, new_chat_id, new_event_id
from mozaiks_core.runtime.protocol.frames import error_frame, event_frame
from mozaiks_core.runtime.protocol.groups import chat_group, run_group
from mozaiks_core.runtime.runs.config import PROCESS_ID, heartbeat_seconds

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1.0.0"
_PAYMENT_CODES = {"LIMIT_EXCEEDED", "PAYMENT_REQUIRED", "SUBSCRIPTION_REQUIRED"}


@dataclass
class ChatError(Exception):
    """A refused chat action: ``code`` and ``message`` for the client, ``status`` for HTTP."""

    code: str
    message: str
    status: int = 400
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """The structured error body: ``{error, message, ...details}``."""
        return {"error": self.code, "message": self.message, **self.details}


# --- workflows --------------------------------------------------------------------------


def _registry() -> Any:
    from mozaiks_core.runtime.bundles import get_registry

    return get_registry()


def get_bundle(name: str) -> Any | None:
    """The loaded bundle called ``name`` (None when missing or broken)."""
    return _registry().bundles.get(name)


def workflow_names() -> list[str]:
    """Names of every workflow that loaded."""
    return sorted(_registry().bundles)


def bundle_errors() -> dict[str, Any]:
    """Bundles that failed to load, with their problems (shown in the admin)."""
    return dict(_registry().errors)


def unavailable_workflow_problems() -> list[Any]:
    """The errors that keep a workflow bundle out of the chat (broken files, a duplicate workflow_name)."""
    registry = _registry()
    return [problem for problems in registry.errors.values() for problem in problems] + list(registry.refused)


def workflow_display(name: str) -> tuple[str, str]:
    """A workflow's display name and description, from its bundle (a humanised name when absent).

    ``display_name`` in orchestrator.yaml wins; otherwise ``ProductLaunch`` reads "Product launch".
    """
    bundle = get_bundle(name)
    orchestrator = bundle.orchestrator if bundle is not None else None
    label = (orchestrator.display_name if orchestrator is not None else "") or humanize_name(name)
    return label, (orchestrator.description if orchestrator is not None else "")


def humanize_name(name: str) -> str:
    """``ProductLaunch`` / ``product_launch`` → ``Product launch``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_-]+", " ", name).split()
    if not words:
        return name
    return " ".join([words[0][:1].upper() + words[0][1:].lower(), *(w.lower() if not w.isupper() else w
                                                                    for w in words[1:])])


def _require_bundle(workflow: str) -> Any:
    bundle = get_bundle(workflow)
    if bundle is not None:
        return bundle
    if workflow in bundle_errors():
        raise ChatError("WORKFLOW_UNAVAILABLE", f"The workflow {workflow!r} failed to load; an operator must fix "
                        "it (see `python manage.py mozaiks validate`).", 409, {"workflow": workflow})
    raise ChatError("WORKFLOW_NOT_FOUND", f"There is no workflow called {workflow!r}; GET /api/workflows lists "
                    "them.", 404, {"workflow": workflow})


def startup_mode(workflow: str) -> str:
    """``AgentDriven`` (starts on connect), ``UserDriven`` (waits for a message) or ``BackendOnly``."""
    bundle = get_bundle(workflow)
    return bundle.orchestrator.startup_mode if bundle is not None else "AgentDriven"


# --- chats ------------------------------------------------------------------------------


def check_app(app_id: str) -> None:
    """Refuse an app id that is not this workspace's."""
    if app_id != workspace_info.app_id():
        raise ChatError("APP_NOT_FOUND", f"Unknown app {app_id!r}; this server runs {workspace_info.app_id()!r}.",
                        404, {"app_id": app_id})


def create_chat(
    *,
    user: Any,
    organization: Any,
    app_id: str,
    workflow: str,
    client_request_id: str = "",
    force_new: bool = False,
    capability_id: str = "",
    can_manage: bool | None = None,
) -> tuple[ChatSession, bool]:
    """Create (or reuse) a chat after asking the entitlements whether this run is allowed now.

    ``can_manage`` is the request credential's manager right (``Caller.can_manage``), so an API key
    without ``manage`` cannot start admin-only capabilities; None uses the user's membership role.
    """
    from mozaiks_core.entitlements.services import check_run_allowed

    check_app(app_id)
    _require_bundle(workflow)
    mine = ChatSession.objects.filter(user=user, organization=organization, app_id=app_id, workflow=workflow)
    existing = mine.filter(client_request_id=client_request_id).first() if client_request_id else None
    if existing is None and not force_new:
        resumable = (ChatSession.Status.CREATED, *ChatSession.ACTIVE_STATUSES, ChatSession.Status.INTERRUPTED)
        existing = mine.filter(status__in=resumable).order_by("-created_at").first()
    chat_id = existing.chat_id if existing is not None else new_chat_id()
    # Gates and the token budget are checked on every start; the run meter counts a chat once
    # (the transaction id is the chat's), so re-opening or retrying a start costs nothing.
    permission = check_run_allowed(user=user, organization=organization, workflow_name=workflow,
                                   capability_id=capability_id, transaction_id=f"chat-start:{chat_id}",
                                   can_manage=can_manage)
    if not permission.allowed:
        # The seam says which status fits (402 when a plan change fixes it, e.g. TOKEN_BUDGET_EXCEEDED).
        status = permission.http_status if permission.http_status >= 400 else (
            402 if permission.error_code in _PAYMENT_CODES else 403)
        raise ChatError(permission.error_code or "ENTITLEMENT_REQUIRED",
                        permission.message or "You may not start this workflow.", status,
                        {"key": permission.details.get("key", capability_id or workflow), **permission.details})
    if existing is not None:
        return existing, True
    session = ChatSession(chat_id=chat_id, user=user, organization=organization, app_id=app_id, workflow=workflow,
                          client_request_id=client_request_id[:100])
    session.cache_seed = int(session.chat_id[:8], 16)
    session.save()
    tracing.remember_chat(session.chat_id)  # a run started later from the socket joins this trace
    return session, False


def chat_for(user: Any, chat_id: str, *, organization_id: Any,
             claims: ExecutionClaims | None = None) -> ChatSession | None:
    """The caller's chat ``chat_id`` in the organization the credential acts for, or None.

    None for another user's chat, a chat of another organization (an API key of organization A
    never reaches its creator's chats in B), and any chat but the one a token is bound to.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not isinstance(chat_id, str):
        return None
    if claims is not None and (claims.chat_id != chat_id or claims.organization_id != str(organization_id)):
        return None
    return (ChatSession.objects.filter(chat_id=chat_id, user=user, organization_id=organization_id)
            .select_related("organization").first())


def member_chat(user: Any, chat_id: str) -> ChatSession | None:
    """The user's chat ``chat_id`` while they are a member of its organization (pages, session sockets)."""
    if user is None or not getattr(user, "is_authenticated", False) or not isinstance(chat_id, str):
        return None
    return (ChatSession.objects.filter(chat_id=chat_id, user=user, organization__memberships__user=user)
            .select_related("organization").first())


def stop_member_chats(user_id: Any, organization_id: Any) -> int:
    """Cancel the chats a former member left running in the organization (its quota is not theirs to spend);
    their pending requests close, so no answer is accepted any more. Returns how many were cancelled."""
    open_statuses = (ChatSession.Status.CREATED, *ChatSession.ACTIVE_STATUSES, ChatSession.Status.INTERRUPTED)
    chats = ChatSession.objects.filter(user_id=user_id, organization_id=organization_id, status__in=open_statuses)
    return sum(1 for session in chats if cancel_chat(session))


def websocket_path(session: ChatSession) -> str:
    """``/ws/{workflow}/{app_id}/{chat_id}/{user_id}``."""
    return f"/ws/{session.workflow}/{session.app_id}/{session.chat_id}/{session.user_id}"


def issue_chat_token(session: ChatSession, capability_id: str = "", *, session_key: str = "",
                     api_key_id: int | None = None) -> str:
    """A short-lived execution token bound to this chat's user, organization, app and workflow, and to the
    credential that asked for it (``session_key`` or ``api_key_id``) and to the user's membership: it dies
    with either."""
    membership_id = (Membership.objects.filter(user_id=session.user_id, organization_id=session.organization_id)
                     .values_list("pk", flat=True).first())
    return issue_execution_token(user_id=session.user_id, organization_id=session.organization_id,
                                 app_id=session.app_id, chat_id=session.chat_id, workflow=session.workflow,
                                 capability=capability_id or session.workflow, session_key=session_key,
                                 api_key_id=api_key_id, membership_id=membership_id)


def session_summary(session: ChatSession) -> dict[str, Any]:
    """The chat's metadata as the HTTP API and ``chat_meta`` show it."""
    return {
        "chat_id": session.chat_id, "app_id": session.app_id, "workflow_name": session.workflow,
        "user_id": str(session.user_id), "status": session.status, "last_seq": session.last_seq,
        "last_artifact": session.last_artifact, "cache_seed": session.cache_seed, "title": session.title,
        "startup_mode": startup_mode(session.workflow), "resumable": session.status == ChatSession.Status.INTERRUPTED,
        "created_at": session.created_at.isoformat(), "updated_at": session.updated_at.isoformat(),
    }


# --- runs -------------------------------------------------------------------------------


def new_run_claim() -> str:
    """A fresh run claim (see ``ChatSession.run_claim``)."""
    return uuid.uuid4().hex


def start_run(session: ChatSession, *, user_message: str | None = None) -> bool:
    """Claim the chat for a new run and hand it to the executor; False if a run already holds it."""
    from mozaiks_core.runtime.runs.executors import get_executor

    reap_stale_runs(chat_ids=[session.chat_id])
    allowed = ChatSession.STARTABLE_STATUSES if user_message else (ChatSession.Status.CREATED,
                                                                   ChatSession.Status.INTERRUPTED)
    claim = new_run_claim()
    with transaction.atomic():
        claimed = ChatSession.objects.filter(pk=session.pk, status__in=allowed).update(
            status=ChatSession.Status.RUNNING, runner=PROCESS_ID, run_claim=claim,
            heartbeat_at=timezone.now(), error_code="", updated_at=timezone.now())
        if not claimed:
            return False
        session.status, session.run_claim = ChatSession.Status.RUNNING, claim
        get_executor().dispatch(session.chat_id, user_message=user_message, claim=claim)
    return True


def publish_to_group(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to a channel-layer group from synchronous code; a failure is logged, not raised."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:
        # The run also polls the database, so a lost message only delays the answer.
        logger.exception("publishing %s to %s failed", message.get("type"), group)


def answer_message(request_id: str, response: Any) -> dict[str, Any]:
    """The channel-layer message that hands an accepted answer to the run (group :func:`run_group`)."""
    return {"type": "run.answer", "request_id": request_id, "response": response}


def answer_request(session: ChatSession, request_id: str, response: Any, *, kind: str, publish: bool = True) -> None:
    """Record the one accepted answer to a pending request and pass it to the run.

    ``publish=False`` leaves sending :func:`answer_message` to an async caller (the consumer), so
    the database thread never waits on the event loop.
    """
    # One conditional UPDATE (autocommit, a single round trip) decides which answer wins; the
    # reads below only explain a refusal.
    accepted = update_where(PendingRequest, {"answered_at": timezone.now(), "response": response}, {
        "chat": session.pk, "request_id": request_id, "kind": kind, "answered_at": None, "closed": False})
    if not accepted:
        existing = PendingRequest.objects.filter(chat=session, request_id=request_id, kind=kind).first()
        what = "input request" if kind == PendingRequest.Kind.INPUT else "UI tool"
        if existing is None:
            raise ChatError("UNKNOWN_REQUEST", f"This chat has no {what} {request_id!r}.", 404,
                            {"request_id": request_id})
        if existing.answered_at is not None:
            raise ChatError("ALREADY_ANSWERED", f"The {what} {request_id!r} was already answered.", 409,
                            {"request_id": request_id})
        raise ChatError("REQUEST_CLOSED", f"The run that asked {request_id!r} has ended; start the chat again.",
                        409, {"request_id": request_id})
    if publish:  # at once in autocommit mode; after the caller's commit inside a transaction
        message = answer_message(request_id, response)
        transaction.on_commit(lambda: publish_to_group(run_group(session.chat_id), message))
    from mozaiks_core.runtime.history import title_from_answer

    title_from_answer(session, response)


def submit_user_text(session: ChatSession, text: str, request_id: str | None = None, *,
                     publish: bool = True) -> tuple[str, str | None]:
    """A user message: answers the pending input request, or starts a run.

    Returns ``("answered", request_id)`` or ``("started", None)``; ``publish`` as for :func:`answer_request`.
    """
    if not request_id:
        open_requests = list(PendingRequest.objects.filter(
            chat=session, kind=PendingRequest.Kind.INPUT, answered_at__isnull=True, closed=False
        ).values_list("request_id", flat=True)[:2])
        request_id = open_requests[0] if len(open_requests) == 1 else None
    if request_id:
        answer_request(session, request_id, {"text": text}, kind=PendingRequest.Kind.INPUT, publish=publish)
        return "answered", request_id
    session.refresh_from_db(fields=["status"])
    if session.status == ChatSession.Status.CANCELLED:
        raise ChatError("CHAT_CANCELLED", "This chat was cancelled; start a new one.", 409)
    if start_run(session, user_message=text):
        return "started", None
    raise ChatError("NOT_WAITING_FOR_INPUT", "The run is busy and has not asked for input; wait for a "
                    "chat.input_request and answer it (with its input_request_id).", 409)


def cancel_chat(session: ChatSession) -> bool:
    """Cancel a chat that is created, running or interrupted; False if it was already over.

    A live run is told through its group and ends with its own ``chat.run_complete``. A chat no
    run holds (never started, interrupted, or its runner died: reaped first) gets that closing
    event written here, in the cancelling transaction, so its sockets learn it ended.
    """
    reap_stale_runs(chat_ids=[session.chat_id])
    stoppable = (ChatSession.Status.CREATED, *ChatSession.ACTIVE_STATUSES, ChatSession.Status.INTERRUPTED)
    idle = (ChatSession.Status.CREATED, ChatSession.Status.INTERRUPTED)
    with transaction.atomic():
        current = ChatSession.objects.select_for_update().filter(pk=session.pk, status__in=stoppable).first()
        if current is None:
            return False
        now = timezone.now()
        changes: dict[str, Any] = {"status": ChatSession.Status.CANCELLED, "updated_at": now,
                                   "last_activity_at": now}
        if current.status in idle:
            closing = _closing_event(current, now)
            changes["last_seq"] = closing.seq
            message = {"type": "chat.frames",
                       "frames": [[closing.seq, event_frame(closing.type, closing.payload, closing.seq, now)]]}
            transaction.on_commit(lambda: publish_to_group(chat_group(session.chat_id), message))
        else:
            transaction.on_commit(lambda: publish_to_group(run_group(session.chat_id), {"type": "run.cancel"}))
        ChatSession.objects.filter(pk=session.pk).update(**changes)
        PendingRequest.objects.filter(chat=session, answered_at__isnull=True).update(closed=True)
    return True


def _closing_event(session: ChatSession, now: Any) -> ChatEvent:
    """The ``chat.run_complete`` of a chat cancelled while no run held it (seq after its last event)."""
    payload = {"status": "cancelled", "result": "stopped", "summary": "The chat was cancelled.",
               "workflow_name": session.workflow, "chat_id": session.chat_id}
    return ChatEvent.objects.create(chat=session, seq=session.last_seq + 1, type="chat.run_complete",
                                    payload=payload, event_id=new_event_id(), created_at=now)


def reap_stale_runs(chat_ids: Sequence[str] | None = None) -> int:
    """Mark runs whose process stopped sending heartbeats as ``interrupted`` (resumable, history kept).

    Sockets watching a reaped chat get a ``chat.error`` (``RUN_INTERRUPTED``) at once, so a user
    whose run died with its worker is told within a bounded time; a socket that connects later
    sees ``status: interrupted`` in ``chat_meta``. The error is not a chat event (no ``seq``):
    the history stays the run's own.
    """
    cutoff = timezone.now() - timedelta(seconds=3 * heartbeat_seconds())
    stale = ChatSession.objects.filter(status__in=ChatSession.ACTIVE_STATUSES, heartbeat_at__lt=cutoff)
    if chat_ids is not None:
        stale = stale.filter(chat_id__in=list(chat_ids))
    if not stale.exists():
        return 0
    with transaction.atomic():
        reaped = list(stale.select_for_update())
        pks = [session.pk for session in reaped]
        # A new claim: a run that was only stalled, not dead, cannot write to the chat any more.
        ChatSession.objects.filter(pk__in=pks).update(
            status=ChatSession.Status.INTERRUPTED, runner="", run_claim=new_run_claim(), error_code="RUN_INTERRUPTED",
            updated_at=timezone.now())
        PendingRequest.objects.filter(chat_id__in=pks, answered_at__isnull=True).update(closed=True)
        notice = error_frame("RUN_INTERRUPTED", "The run stopped unexpectedly (the process running it went away). "
                             "Send a message to continue the chat.", status=ChatSession.Status.INTERRUPTED)
        message = {"type": "chat.frames", "frames": [[None, notice]]}
        groups = [chat_group(session.chat_id) for session in reaped]
        transaction.on_commit(lambda: [publish_to_group(group, message) for group in groups])
    if reaped:
        logger.warning("marked %d chat run(s) interrupted (no heartbeat since %s)", len(reaped), cutoff.isoformat())
    return len(reaped)


# --- reading events ---------------------------------------------------------------------


def events_after(session: ChatSession, last_seq: int, limit: int = 5000) -> list[ChatEvent]:
    """Committed events with ``seq > last_seq``, oldest first."""
    return list(ChatEvent.objects.filter(chat=session, seq__gt=last_seq).order_by("seq")[:limit])


def open_requests(session: ChatSession) -> list[PendingRequest]:
    """Input requests and UI tools the run is still waiting on."""
    return list(PendingRequest.objects.filter(chat=session, answered_at__isnull=True, closed=False).order_by("seq"))


def export_lines(session: ChatSession) -> Iterator[str]:
    """The chat's events as NDJSON lines in the frozen MozaiksAI envelope."""
    queryset = ChatEvent.objects.filter(chat=session).order_by("seq")
    for event in queryset.iterator(chunk_size=500):
        envelope = {
            "event_type": event.type,
            "seq": event.seq,
            "occurred_at": event.created_at.isoformat().replace("+00:00", "Z"),
            "payload": event.payload,
            "schema_version": SCHEMA_VERSION,
            "correlation_id": session.chat_id,
            "process_id": event.run_id or session.chat_id,
            "causation_id": event.causation_id or None,
            "metadata": {"event_id": event.event_id, "workflow_name": session.workflow, "app_id": session.app_id},
        }
        yield json.dumps(envelope) + "\n"


def start_background_run(
    *,
    capability_id: str,
    organization: Any,
    user: Any,
    initial_message: str = "",
    context: dict[str, Any] | None = None,
) -> ChatSession:
    """Start a workflow capability with no socket attached (a domain-event reaction does this).

    The chat belongs to the event's actor in the event's organization, passes the same
    entitlement checks as a user's start, and its events are persisted, so the user finds the
    run in their chat history and can open it later. UserDriven workflows get ``initial_message``
    as their first user message.
    """
    from mozaiks_core.entitlements.services import resolve_capability

    workflow = resolve_capability(capability_id, workflow_names())
    if workflow is None:
        raise ChatError("CAPABILITY_NOT_FOUND", f"No workflow capability '{capability_id}' exists; "
                        "check the reaction's capability id against GET /api/ai/capabilities.", 404,
                        {"capability_id": capability_id})
    if user is None or not getattr(user, "is_authenticated", False):
        raise ChatError("USER_REQUIRED", f"Capability '{capability_id}' was started without an actor; chats belong to "
                        "a user, so publish the event with actor=<user>.", 400, {"capability_id": capability_id})
    session, _ = create_chat(user=user, organization=organization, app_id=workspace_info.app_id(),
                             workflow=workflow, force_new=True, capability_id=capability_id)
    event = (context or {}).get("event") or {}
    if event.get("event_type"):
        session.title = f"{workflow}: {event['event_type']}"[:200]
        session.save(update_fields=["title"])
    user_message = initial_message if startup_mode(workflow) == "UserDriven" else None
    start_run(session, user_message=user_message)
    return session
