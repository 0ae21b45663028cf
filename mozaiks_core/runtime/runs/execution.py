"""The run service: one workflow run of one chat, implementing the engine's :class:`RunHooks`.

Every chat event gets the next ``seq`` and goes to the process's :class:`EventWriter` (committed,
then published to the chat's group). Answers to input requests and UI tools arrive on the run's
channel-layer group from whichever process received them, with the database as the fallback, so a
run neither depends on the socket that started it nor on the process that serves the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from mozaiks_core.db.async_db import db_call
from mozaiks_core.entitlements.pricing import price_table
from mozaiks_core.entitlements.services import TokenBudget
from mozaiks_core.observability import logs, metrics, tracing
from mozaiks_core.runtime.engine.hooks import BudgetExceeded, RunCancelled, RunContext, RunOutcome, UIToolTimeout
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest, new_event_id
from mozaiks_core.runtime.protocol.frames import EVENT_TYPE_PATTERN, connection_frame, event_frame_from_json
from mozaiks_core.runtime.protocol.groups import run_group
from mozaiks_core.runtime.protocol.layers import attach_receiver, detach_receiver
from mozaiks_core.runtime.runs.admission import TokenAdmission
from mozaiks_core.runtime.runs.answer_poll import answer_poller
from mozaiks_core.runtime.runs.budgets import budgets
from mozaiks_core.runtime.runs.config import (
    budget_check_seconds,
    heartbeat_seconds,
    reserve_tokens,
)
from mozaiks_core.runtime.runs.process_tuning import tune_process
from mozaiks_core.runtime.runs.writer import EventRow, PendingRow, UsageRow, WriteEntry, get_writer

logger = logging.getLogger(__name__)


def _to_json(data: dict[str, Any]) -> str:
    """``data`` as JSON text; objects JSON cannot store become strings."""
    try:
        return json.dumps(data)
    except (TypeError, ValueError):
        return json.dumps(data, default=str)


def _json_safe(data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Return data that JSON can store, and whether it needed converting (objects become strings)."""
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        return json.loads(json.dumps(data, default=str)), True
    return data, False


class RunService:
    """Implements :class:`~mozaiks_core.runtime.engine.hooks.RunHooks` for one run of one chat."""

    def __init__(self, session: ChatSession, last_event_id: str) -> None:
        self.session = session
        self.chat_id = session.chat_id
        self.run_id = uuid.uuid4().hex
        self.claim = session.run_claim  # every write of the run is guarded by it (writer._write)
        self.seq = session.last_seq
        self.last_event_id = last_event_id
        self.writer = get_writer()
        self.cancelled = False
        self.started_at = time.monotonic()
        self.tokens = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self.errors_emitted: set[str] = set()
        self._write_error: BaseException | None = None
        self._waiters: dict[str, asyncio.Future[Any]] = {}
        self._channel = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._asked: set[str] = set()  # request ids this run asked (closed when it ends)
        self._budget_exhausted = False
        self._organization_pk = session.organization_id
        self.admission = TokenAdmission()  # reservations under a hard token limit, quota figures
        self.trace_context: Any = None  # the run span's context, for the writer's publish spans

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Subscribe to the run's group (answers, cancellation) and start the heartbeat."""
        layer = get_channel_layer()
        self._channel = await layer.new_channel()
        # Answers reach the waiting run as the layer receives them: the listening task would take
        # its next turn of the loop to pass each one on, and the run its turn after that.
        attach_receiver(layer, self._channel, self._take_message)
        await layer.group_add(run_group(self.chat_id), self._channel)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._heartbeat())]

    async def close(self) -> None:
        """Flush, give back unused token reservations, stop listening, refuse answers nobody will read."""
        await self.flush()
        await self.admission.release_unused(self.session.organization)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        layer = get_channel_layer()
        detach_receiver(layer, self._channel)
        await layer.group_discard(run_group(self.chat_id), self._channel)
        if self._asked:  # only its own: a chat started again after this run was reaped has new ones
            await db_call(PendingRequest.objects.filter(
                chat_id=self.session.pk, request_id__in=sorted(self._asked), answered_at__isnull=True).update
            )(closed=True)

    async def flush(self) -> None:
        """Wait until everything emitted so far is committed and published."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._submit(done=done)
        await done

    def _submit(self, **fields: Any) -> None:
        """Queue a write of this run for the writer (guarded by the run's claim)."""
        self.writer.submit(WriteEntry(self.session.pk, self.chat_id, claim=self.claim, trace=self.trace_context,
                                      **fields))

    def update_session(self, **fields: Any) -> None:
        """Change the chat row in order with the events (same batch, same transaction)."""
        self._submit(session_update=fields, on_error=self._write_failed)

    # --- RunHooks ----------------------------------------------------------------------

    async def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Persist (batched) and publish one chat event with the next seq."""
        self.enqueue_event(event_type, data)

    async def emit_transient(self, event_type: str, data: dict[str, Any]) -> None:
        """Publish a frame (``chat.print``) in order with the events, without storing it."""
        self._check_running()
        payload, _ = _json_safe(data)
        self._submit(frame=connection_frame(event_type, payload), transient=True)

    async def request_input(self, *, agent: str, prompt: str) -> str:
        """Emit ``chat.input_request`` and block until the user answers (socket or HTTP)."""
        request_id = uuid.uuid4().hex
        data = {"agent": agent, "request_id": request_id, "input_request_id": request_id, "prompt": prompt,
                "chat_id": self.chat_id}
        answer = await self._ask(PendingRequest.Kind.INPUT, request_id, "chat.input_request", data, None)
        return str(answer.get("text", "")) if isinstance(answer, dict) else str(answer)

    async def request_ui_tool(
        self,
        *,
        tool_name: str,
        component_type: str,
        payload: dict[str, Any],
        display: str,
        timeout: float | None,
        agent: str = "",
    ) -> dict[str, Any]:
        """Emit a UI ``chat.tool_call`` and block until ``ui_tool_response`` or ``timeout``."""
        event_id = uuid.uuid4().hex
        data = {
            "tool_name": tool_name, "ui_tool_id": tool_name, "component_type": component_type, "agent": agent,
            "awaiting_response": True, "payload": payload, "corr": event_id, "eventId": event_id,
            "tool_call_id": event_id, "display": display or "inline", "chat_id": self.chat_id,
        }
        if data["display"] == "artifact":
            artifact, _ = _json_safe({key: data[key] for key in ("eventId", "tool_name", "component_type",
                                                                   "payload", "display")})
            self.update_session(last_artifact=artifact)
        try:
            response = await self._ask(PendingRequest.Kind.UI_TOOL, event_id, "chat.tool_call", data, timeout)
        except TimeoutError:
            await db_call(
                PendingRequest.objects.filter(request_id=event_id, answered_at__isnull=True).update
            )(closed=True)
            self.enqueue_event("chat.ui_tool_dismiss", {"eventId": event_id, "tool_name": tool_name,
                                                         "reason": "timeout"})
            raise UIToolTimeout(f"Nobody answered the UI tool {tool_name} within {timeout} seconds.") from None
        # The answer travels with the event, so a reloaded page shows what was submitted.
        self.enqueue_event("chat.ui_tool_complete", {"eventId": event_id, "tool_name": tool_name,
                                                      "component_type": component_type, "display": data["display"],
                                                      "response": response})
        if data["display"] == "artifact":  # the ChatUI closes an answered artifact panel on this
            self.enqueue_event("chat.ui_tool_dismiss", {"eventId": event_id, "event_id": event_id,
                                                         "tool_name": tool_name, "reason": "answered"})
            self.update_session(last_artifact=None)
        return response if isinstance(response, dict) else {"value": response}

    def llm_call_ready(self, agent: str) -> bool:
        """The engine's fast path (any thread): True when the process holds a fresh "not exhausted"
        answer for the organization (:mod:`~mozaiks_core.runtime.runs.budgets`) and nothing stops the run.

        Plain reads only, so the run can ask in place, from any thread, without a hook round trip.
        """
        if self._write_error is not None or self.cancelled or self._budget_exhausted:
            return False
        budget = budgets.fresh(self._organization_pk, budget_check_seconds())
        return budget is not None and not budget.exhausted and not budget.reserve

    async def before_llm_call(self, *, agent: str, prompt_tokens: int = 0, max_tokens: int | None = None) -> None:
        """Admit one LLM call, or stop the run with :class:`BudgetExceeded`.

        Under a hard token limit the call's estimate (``prompt_tokens`` plus ``max_tokens``, else
        ``MOZAIKS_LLM_RESERVE_TOKENS``) is reserved first; a call the remaining budget cannot
        cover is not made. Soft and unlimited meters admit every call (the meter flags overage).
        """
        from mozaiks_core.entitlements.services import check_token_budget

        self._check_running()
        if not self._budget_exhausted:
            organization = self.session.organization
            budget = await budgets.current(self._organization_pk, budget_check_seconds(),
                                           lambda: db_call(check_token_budget)(organization=organization))
            self._budget_exhausted = budget.exhausted
            self.admission.note_budget(budget)
            if budget.reserve and not self._budget_exhausted:
                estimate = int(prompt_tokens) + (max_tokens or reserve_tokens())
                self._budget_exhausted = not await self.admission.reserve(organization, estimate)
        if self._budget_exhausted:
            raise BudgetExceeded(self.admission.refusal or "Your organization's AI tokens for this period are used "
                                 "up. Upgrade your plan or wait for the next period to continue.")

    async def record_usage(self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Emit ``chat.usage_delta`` and queue its :class:`UsageRecord` row for the same transaction."""
        total = int(prompt_tokens) + int(completion_tokens)
        prices = price_table()
        for key, value in (("prompt_tokens", int(prompt_tokens)), ("completion_tokens", int(completion_tokens)),
                           ("total_tokens", total)):
            self.tokens[key] += value
        seq = self.enqueue_event("chat.usage_delta", {
            "agent_name": agent, "model_name": model, "prompt_tokens": int(prompt_tokens),
            "completion_tokens": int(completion_tokens), "total_tokens": total, "workflow_name": self.session.workflow,
        })
        usage = UsageRow(
            chat_pk=self.session.pk, agent=agent, model=model, prompt_tokens=int(prompt_tokens),
            completion_tokens=int(completion_tokens), total_tokens=total, workflow=self.session.workflow,
            user=self.session.user, organization=self.session.organization,
            transaction_id=f"llm:{self.chat_id}:{seq}", created_at=timezone.now(),
            reserved=self.admission.take_reserved(), plan_id=self.admission.plan_id,
            cost=prices.cost(model, int(prompt_tokens), int(completion_tokens)), currency=prices.currency,
        )
        self._submit(usage=usage, on_error=self._write_failed, on_metered=self._metered)
        summary = self.admission.summary_after(total)
        if summary is not None:
            self.enqueue_event("chat.usage_summary", summary)

    def budget_checked(self, budget: TokenBudget, at: float | None = None) -> None:
        """Share a budget answer read at ``at`` (monotonic; default now) with the process's runs."""
        budgets.note(self._organization_pk, budget, at)
        self._budget_exhausted = self._budget_exhausted or budget.exhausted
        self.admission.note_budget(budget)

    def _metered(self, budget: TokenBudget) -> None:
        """The meter's answer after a usage record (called from the writer's database thread): it is
        the organization's budget right after this call, as fresh as a check."""
        self.budget_checked(budget)

    # --- internals ---------------------------------------------------------------------

    def _check_running(self) -> None:
        if self._write_error is not None:
            raise RuntimeError(f"chat events could not be stored: {self._write_error}") from self._write_error
        if self.cancelled:
            raise RunCancelled(f"chat {self.chat_id} was cancelled")

    def _write_failed(self, error: BaseException) -> None:
        self._write_error = error

    def enqueue_event(self, event_type: str, data: dict[str, Any], pending: PendingRow | None = None,
                      **session_update: Any) -> int:
        """Number the event and queue it for the writer; returns its seq (durable after :meth:`flush`)."""
        self._check_running()
        if not EVENT_TYPE_PATTERN.match(event_type):
            raise ValueError(f"event type {event_type!r} must look like 'chat.text' (lowercase, dotted)")
        payload_json = _to_json(data)  # serialized once: stored as is and spliced into the frame
        self.seq += 1
        created = timezone.now()
        event_id = new_event_id()
        event = EventRow(chat_pk=self.session.pk, seq=self.seq, type=event_type, payload=payload_json,
                         event_id=event_id, causation_id=self.last_event_id, run_id=self.run_id, created_at=created)
        self.last_event_id = event_id
        if event_type == "chat.error":
            self.errors_emitted.add(str(data.get("error_code", "")))
        if pending is not None:
            pending.seq = self.seq
        frame = event_frame_from_json(event_type, payload_json, self.seq, created)
        self._submit(event=event, frame=frame, pending=pending, session_update=session_update,
                     on_error=self._write_failed)
        return self.seq

    async def _ask(self, kind: str, request_id: str, event_type: str, data: dict[str, Any],
                   timeout: float | None) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = future
        self._asked.add(request_id)
        payload, _ = _json_safe(data)
        pending = PendingRow(chat_id=self.session.pk, request_id=request_id, kind=kind, seq=0, frame=payload)
        self.enqueue_event(event_type, data, pending=pending, status=ChatSession.Status.WAITING_INPUT)
        await self.flush()
        poller = answer_poller(max(0.5, min(2.0, heartbeat_seconds() / 2)))
        poller.watch(request_id, self.session.pk, future, self._cancel)
        try:
            # Awaited directly, not through wait_for(shield(...)): each layer cost the answer a turn of
            # the loop. Cancelling the wait cancels the future, which nothing else resolves any more.
            async with asyncio.timeout(timeout):
                return await future
        finally:
            poller.forget(request_id)
            self._waiters.pop(request_id, None)
            if not self.cancelled:
                self.update_session(status=ChatSession.Status.RUNNING)

    async def _listen(self) -> None:
        """Messages of the run's channel on a layer without receivers (see :meth:`_take_message`)."""
        layer = get_channel_layer()
        while True:
            self._take_message(await layer.receive(self._channel))

    def _take_message(self, message: dict[str, Any]) -> bool:
        """An answer or a cancellation for this run, handled as it arrives; always taken."""
        if message.get("type") == "run.answer":
            future = self._waiters.get(str(message.get("request_id")))
            if future is not None and not future.done():
                future.set_result(message.get("response"))
        elif message.get("type") == "run.cancel":
            self._cancel()
        return True

    def _cancel(self) -> None:
        self.cancelled = True
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(RunCancelled(f"chat {self.chat_id} was cancelled"))

    async def _heartbeat(self) -> None:
        """Every ``heartbeat_seconds()``: ``heartbeat_at`` moves, through the writer, in order with the
        events (and with every status change). Event batches do not move it: they rewrote the
        ``(status, heartbeat_at)`` index entry of every chat they touched."""
        while True:
            await asyncio.sleep(heartbeat_seconds())
            self._submit(heartbeat=True, on_error=self._write_failed)


def _history_from_events(session: ChatSession) -> list[dict[str, Any]]:
    """AG2 messages rebuilt from the stored ``chat.text`` events (a run that died kept no history)."""
    messages = []
    for payload in ChatEvent.objects.filter(chat=session, type="chat.text").values_list("payload", flat=True):
        agent = str(payload.get("agent", "assistant"))
        role = str(payload.get("role") or ("user" if agent.lower() == "user" else "assistant"))
        messages.append({"role": role, "name": agent, "content": str(payload.get("content", ""))})
    return messages


@dataclass
class RunState:
    """What a run starts from, read in one trip to the database thread."""

    session: ChatSession
    last_event_id: str
    history: list[dict[str, Any]] | None
    bundle: Any
    budget: TokenBudget | None  # the token budget at the start (None: the chat is no longer claimed)
    budget_read_at: float | None  # time.monotonic() when read here; None: the process's shared answer


def _load_run_state(chat_id: str, claim: str | None = None) -> RunState:
    from mozaiks_core.entitlements.services import check_token_budget
    from mozaiks_core.runtime.bundles import get_registry

    last_event = ChatEvent.objects.filter(chat=OuterRef("pk"), seq=OuterRef("last_seq")).values("event_id")[:1]
    session = (ChatSession.objects.select_related("organization", "user")
               .annotate(last_event_id=Subquery(last_event)).get(chat_id=chat_id))
    last = session.last_event_id if session.last_seq >= 0 else None
    history = session.messages or (_history_from_events(session) if last else None)
    budget, read_at = None, None
    # Still claimed for this run: running, and (when the dispatch named it) with the same claim.
    claimed = session.status == ChatSession.Status.RUNNING and claim in (None, session.run_claim)
    if claimed:  # the first LLM call's budget check, done here
        # A fresh "not exhausted" answer of the process serves; anything else is read again
        # (an organization that just raised its limit must not wait for an old "exhausted").
        budget = budgets.fresh(session.organization_id, budget_check_seconds())
        if budget is None or budget.exhausted:
            budget, read_at = check_token_budget(organization=session.organization), time.monotonic()
    return RunState(session, last or "", history or None, get_registry().bundles.get(session.workflow), budget, read_at)


async def execute_run(chat_id: str, *, user_message: str | None = None, bundle: Any = None,
                      claim: str | None = None, trace: dict[str, str] | None = None) -> RunOutcome:
    """Run a chat that :func:`~mozaiks_core.runtime.services.start_run` has claimed, to its end.

    ``bundle`` replaces the registry's bundle of the chat's workflow (the benchmark's relay).
    ``claim`` is the claim ``start_run`` made: a chat claimed again meanwhile is not run twice.
    ``trace`` is the trace context of the request that started it (``tracing.carrier()``).
    """
    tune_process()
    state = await db_call(_load_run_state)(chat_id, claim)
    session, history, bundle = state.session, state.history, bundle or state.bundle
    if state.budget is None:
        # Cancelled, or reaped while the task waited in a queue (and maybe claimed by another run).
        logger.warning("not running chat %s: it is %s, no longer claimed for a run", chat_id, session.status)
        return RunOutcome(session.status, summary="The chat was no longer claimed for this run.")
    service = RunService(session, state.last_event_id)
    if state.budget_read_at is not None:
        service.budget_checked(state.budget, state.budget_read_at)
    with (logs.log_context(chat_id=chat_id, run_id=service.run_id, org=session.organization_id),
          tracing.run_span(session.workflow, chat_id, service.run_id, trace)):
        service.trace_context = tracing.current_context()
        return await _execute(service, bundle, history, user_message)


async def _execute(service: RunService, bundle: Any, history: list[dict[str, Any]] | None,
                   user_message: str | None) -> RunOutcome:
    """The claimed run, with its log context bound: open, engine, closing events, metrics."""
    from mozaiks_core.runtime.engine import run_workflow

    session = service.session
    await service.open()
    metrics.run_started(session.workflow)
    logger.info("run started: workflow %s", session.workflow)
    outcome = RunOutcome("failed", summary="The run stopped unexpectedly.", error_code="RUN_FAILED")
    status = outcome.status
    try:
        if bundle is None:
            outcome = RunOutcome("failed", summary=f"The workflow {session.workflow} is not available.",
                                 error_code="WORKFLOW_UNAVAILABLE")
        else:
            context = RunContext(
                chat_id=session.chat_id, app_id=session.app_id, workflow_name=session.workflow,
                user_id=str(session.user_id), organization_id=str(session.organization_id),
                cache_seed=session.cache_seed,
            )
            outcome = await _run_engine(run_workflow, bundle, context, service, history, user_message)
        status = await _report_outcome(service, outcome)
    finally:
        await service.close()
        _count_outcome(session.workflow, status, outcome.error_code)
        logger.info("run ended: %s%s", status, f" ({outcome.error_code})" if outcome.error_code else "")
    return outcome


def _count_outcome(workflow: str, status: str, error_code: str) -> None:
    """The run metrics of one ended run; a run stopped by the token budget is a quota refusal too."""
    from mozaiks_core.entitlements.services import token_meter_key

    metrics.run_finished(workflow, status, error_code)
    if status == "failed" and error_code == BudgetExceeded.error_code:
        metrics.quota_refused(token_meter_key(), error_code)


async def _run_engine(run_workflow: Any, bundle: Any, context: RunContext, service: RunService,
                      history: list[dict[str, Any]] | None, user_message: str | None) -> RunOutcome:
    try:
        return await run_workflow(bundle, context, service, resume_messages=history, user_message=user_message)
    except BudgetExceeded as error:
        return RunOutcome("failed", summary=str(error), error_code=BudgetExceeded.error_code)
    except RunCancelled:
        return RunOutcome("cancelled", summary="The chat was cancelled.")
    except Exception as error:
        logger.exception("run of chat %s failed", context.chat_id)
        if service.cancelled:
            return RunOutcome("cancelled", summary="The chat was cancelled.")
        return RunOutcome("failed", summary=f"The run failed: {error}", error_code="RUN_FAILED")


async def _report_outcome(service: RunService, outcome: RunOutcome) -> str:
    """The closing events: ``chat.error`` for a failure the engine did not report, then ``chat.run_complete``.

    Returns the run's final status (``cancelled`` when it was cancelled, else the outcome's)."""
    status = "cancelled" if service.cancelled else outcome.status
    service.cancelled = False  # the closing events of a cancelled run are still written
    if outcome.status == "failed" and outcome.error_code and outcome.error_code not in service.errors_emitted:
        service.enqueue_event("chat.error", {"message": outcome.summary or "The run failed.",
                                              "error_code": outcome.error_code})
    result = {"completed": "success", "cancelled": "stopped"}.get(status, "error")
    final: dict[str, Any] = {"status": status, "runner": "", "error_code": outcome.error_code}
    if outcome.messages:
        final["messages"] = outcome.messages
    # The final status commits with chat.run_complete: a client that sees it finds the chat ended.
    service.enqueue_event("chat.run_complete", {
        "status": status, "result": result, "summary": outcome.summary, "reason": _REASONS.get(status, status),
        "duration_sec": round(time.monotonic() - service.started_at, 3), "total_tokens": service.tokens["total_tokens"],
        "usage": dict(service.tokens),
        "workflow_name": service.session.workflow, "chat_id": service.chat_id,
    }, **final)
    return status


# chat.run_complete's ``reason``, as the MozaiksAI ChatUI shows it in its summary box.
_REASONS = {"completed": "finished", "cancelled": "cancelled", "failed": "error"}
