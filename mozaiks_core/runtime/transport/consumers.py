"""The chat WebSocket: ``/ws/{workflow}/{app_id}/{chat_id}/{user_id}``.

The consumer only subscribes and forwards: runs publish committed events to the chat's group,
the consumer passes them on in ``seq`` order (filling any gap from the database), answers the
client's frames through :mod:`~mozaiks_core.runtime.services`, and replays the chat's stored
events: on connect every event (or only those after ``?last_seq=``, when the client states what
it holds), on ``client.resume`` whatever this socket has not sent yet. The chat's frames reach
the consumer as the channel layer receives them (``layers.attach_receiver``) whenever they can be
handled at once: in order, with nothing else of the consumer's under way. Each socket has a
bounded outbox and its own sender task; a client that stops reading (its backlog passes the
limit, or no frame could be handed to the server for ``MOZAIKS_WS_STALL_SECONDS``) is closed with
4008 instead of slowing the run or other sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper

from mozaiks_core.auth.liveness import (
    Credential,
    CredentialRevoked,
    check_credential,
    execution_credential,
    session_fingerprint,
)
from mozaiks_core.conf import mozaiks_settings
from mozaiks_core.db.async_db import db_call, db_write
from mozaiks_core.observability import logs, metrics
from mozaiks_core.runtime import services
from mozaiks_core.runtime.models import ChatEvent, ChatSession, PendingRequest
from mozaiks_core.runtime.protocol.frames import (
    RATE_LIMITED,
    FrameError,
    InboundFrame,
    connection_frame,
    error_frame,
    event_frame,
    parse_inbound,
    resume_position,
)
from mozaiks_core.runtime.protocol.groups import chat_group, run_group, user_group
from mozaiks_core.runtime.protocol.layers import attach_receiver, detach_receiver
from mozaiks_core.runtime.transport.dispatch import Receive, dispatch_in_turn
from mozaiks_core.runtime.transport.inbound_features import refuse_or_translate
from mozaiks_core.runtime.transport.positions import PositionError, check_position, stated_position

logger = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
CREDENTIAL_REVOKED = 4003  # the credential died while the socket was open (membership ended, signed out, ...)
INTERNAL_ERROR = 1011
SLOW_CLIENT = 4008
TOO_MANY_SOCKETS = 4029
# Open chat sockets per user id in this process (MOZAIKS_WS_MAX_SOCKETS_PER_USER caps them).
_sockets_per_user: Counter[str] = Counter()
# Events read from the database per query of a replay or gap fill (a replay of any length is paged).
REPLAY_PAGE = 1000


def frame_sender(send: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The server's own ``send`` under Channels' session wrappers.

    ``InstanceSessionWrapper.send`` reads the session on every message to save it on
    ``http.response.start``, which a WebSocket frame never is: frames skip it.
    """
    owner = getattr(send, "__self__", None)
    while isinstance(owner, InstanceSessionWrapper):
        send = owner.real_send
        owner = getattr(send, "__self__", None)
    return send


class _RateLimit:
    """Token bucket for inbound frames: ``rate`` per second, bursts up to ``burst``. A frame over the
    limit is dropped, and the socket is not read again until a token is back."""

    def __init__(self, rate: float = 20.0, burst: float = 60.0) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()

    warned = 0.0  # when the client was last told it is over the limit

    def allow(self) -> bool:
        """Take a token for one frame; False when the bucket is empty (the frame is dropped)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def seconds_to_next_token(self) -> float:
        """How long until the bucket holds a token again."""
        return max(0.0, (1 - self.tokens) / self.rate)

    def warn_now(self) -> bool:
        """Whether to answer a dropped frame with RATE_LIMITED: once a second, so a flood costs no replies."""
        if self.stamp - self.warned < 1.0:
            return False
        self.warned = self.stamp
        return True


def _authorize(scope: dict[str, Any], path: dict[str, str]) -> tuple[ChatSession | None, Credential | None, str, str]:
    """The chat this socket may join and the credential it joins with, or (None, None, error_code, message)."""
    user = scope.get("user")
    claims = scope.get("execution_claims")
    if user is None or not user.is_authenticated:
        code = scope.get("execution_token_error") or "AUTHENTICATION_REQUIRED"
        return None, None, code, ("Sign in, or connect with ?access_token=<execution token from the start endpoint, "
                                  "or client token from POST /api/auth/client-token>.")
    denied = (None, None, "CHAT_ACCESS_DENIED", "This chat does not exist or is not yours; start a chat first.")
    if path["user_id"] != str(user.pk):
        return denied
    if claims is not None and (claims.app_id, claims.chat_id, claims.workflow, claims.user_id) != (
        path["app_id"], path["chat_id"], path["workflow"], path["user_id"]
    ):
        return denied
    if claims is not None:
        credential = execution_credential(claims)
        session = services.chat_for(user, path["chat_id"], organization_id=claims.organization_id, claims=claims)
    else:
        session = ChatSession.objects.filter(chat_id=path["chat_id"], user=user).first()
        credential = None if session is None else Credential(
            kind="session", user_id=user.pk, organization_id=session.organization_id,
            session_key=getattr(scope.get("session"), "session_key", None) or "")
    if credential is not None:
        try:
            check_credential(credential)
        except CredentialRevoked as revoked:
            return None, None, revoked.code, revoked.message
    if session is None or session.app_id != path["app_id"] or session.workflow != path["workflow"]:
        return denied
    client_claims = scope.get("client_claims")
    if client_claims is not None and str(session.organization_id) != client_claims.organization_id:
        return denied
    services.reap_stale_runs(chat_ids=[session.chat_id])
    session.refresh_from_db()
    return session, credential, "", ""


class ChatConsumer(AsyncWebsocketConsumer):
    """One browser tab's view of one chat."""

    session: ChatSession
    delivered_seq: int

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Callable[..., Awaitable[None]]) -> None:
        """Channels' ``AsyncConsumer.__call__`` with :func:`~mozaiks_core.runtime.transport.dispatch.dispatch_in_turn`
        instead of ``await_many_dispatch`` (two turns of the loop fewer per client frame)."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        channel_receive = None
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        try:
            with contextlib.suppress(StopConsumer):
                await dispatch_in_turn(receive, channel_receive, self.dispatch)
        except Exception:
            # A bug, not a client's mistake (those get a chat.error): log it, close with 1011.
            logger.exception("chat socket %s failed; closing it with 1011", scope.get("path", ""))
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": INTERNAL_ERROR})
        finally:
            await self._clean_up()

    async def connect(self) -> None:
        """Authorize against the path, subscribe, send ``chat_meta``, start AgentDriven runs."""
        conf = mozaiks_settings()
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.outbox_limit = conf.ws_outbox_frames
        self.stall_seconds = conf.ws_stall_seconds
        self.drained = asyncio.Event()  # set by the sender whenever the outbox is under half full
        self._server_send = frame_sender(self.base_send)
        self.tasks: list[asyncio.Task[None]] = []
        self.closing = False
        self.subscribed = False
        self.receiving_directly = False
        self.limiter = _RateLimit()
        path = self.scope["url_route"]["kwargs"]
        session, credential, code, message = await db_call(_authorize)(self.scope, path)
        await self.accept()
        if session is None or credential is None:
            await self.send(text_data=error_frame(code, message))
            await self.close(code=POLICY_VIOLATION)
            return
        self.credential = credential
        user_id = path["user_id"]
        if _sockets_per_user[user_id] >= conf.ws_max_sockets_per_user:
            await self.send(text_data=error_frame(
                "TOO_MANY_SOCKETS", f"You have {conf.ws_max_sockets_per_user} chat sockets open on this server, "
                "the limit (MOZAIKS_WS_MAX_SOCKETS_PER_USER); close one and connect again.",
                limit=conf.ws_max_sockets_per_user))
            await self.close(code=TOO_MANY_SOCKETS)
            return
        _sockets_per_user[user_id] += 1
        self.counted_user = user_id
        self.session = await db_call(ChatSession.objects.get)(pk=session.pk)
        self.counted = True
        metrics.socket_opened()
        # The connection's task (and the tasks it starts) logs with its chat and organization.
        logs.bind(chat_id=self.session.chat_id, org=self.session.organization_id)
        stated, position_error = stated_position(self.scope.get("query_string", b""), self.session.last_seq)
        # Events after this position were (or are being) sent on this socket; requests at or before
        # it are re-sent once, since the client only said it holds them.
        self.replay_from = -1 if stated is None else stated
        self.delivered_seq = self.replay_from
        self.resent_requests: set[str] = set()
        self.receiving_directly = attach_receiver(self.channel_layer, self.channel_name, self._receive_directly)
        # Joined before the chat's group: a revocation published from here on reaches this socket.
        await self.channel_layer.group_add(user_group(credential.user_id), self.channel_name)
        await self.channel_layer.group_add(chat_group(session.chat_id), self.channel_name)
        self.subscribed = True
        if not await self._credential_still_live():
            return
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._send_loop()), loop.create_task(self._ping_loop())]
        meta = await db_call(services.session_summary)(self.session)
        self._queue(connection_frame("chat_meta", {**meta, "chat_exists": True}, **_meta_top_level(meta)))
        if position_error is not None:
            self._queue(error_frame(position_error.code, position_error.message, **position_error.details))
        replayed = await self._send_events_from_db(self.replay_from)
        if stated is not None and not self.closing:
            await self._send_boundary(stated, replayed)
        if meta["startup_mode"] == "AgentDriven" and self.session.status == ChatSession.Status.CREATED:
            await db_call(services.start_run)(self.session)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-message ``close_old_connections()`` hop to the database
        thread: every database call here goes through ``database_sync_to_async``, which does it."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        self.dispatching = True
        try:
            await handler(message)
        finally:
            self.dispatching = False
            if not message["type"].startswith("websocket.") and self.declined:
                self.declined -= 1

    counted_user: str | None = None  # the user whose socket count this socket holds, once admitted

    # Set by dispatch while a handler runs; counts the layer messages declined by _receive_directly
    # (queued for dispatch) and not yet handled. Class defaults: dispatch runs before connect.
    dispatching = False
    declined = 0
    credential: Credential | None = None
    counted = False  # in the open-sockets gauge (an accepted, authorized socket)

    def _receive_directly(self, message: dict[str, Any]) -> bool:
        """The channel layer's receiver (see ``layers.attach_receiver``): handle ``chat.frames`` now
        when that keeps the order, i.e. no handler is under way (a resume may be replaying), nothing
        declined earlier waits in the queue, and the frames follow ``delivered_seq`` without a gap
        (a gap is filled from the database by :meth:`chat_frames`). Anything else is declined."""
        if (self.dispatching or self.declined or message.get("type") != "chat.frames"
                or not self._follows_delivered(message["frames"])):
            self.declined += 1
            return False
        self._queue_in_order(message["frames"])
        metrics.frames_delivered(message.get("emitted_at"))
        return True

    def _follows_delivered(self, frames: list[list[Any]]) -> bool:
        expected = self.delivered_seq + 1
        for seq, _ in frames:
            if seq is None or seq < expected:
                continue
            if seq > expected:
                return False
            expected += 1
        return True

    def _queue_in_order(self, frames: list[list[Any]]) -> None:
        """Queue frames that follow ``delivered_seq`` without a gap; duplicates are skipped."""
        for seq, text in frames:
            if seq is None:
                self._queue(text)
            elif seq == self.delivered_seq + 1:
                self._queue(text)
                self.delivered_seq = seq

    async def disconnect(self, code: int) -> None:
        """Unsubscribe; the run keeps going without this socket."""
        await self._clean_up()

    async def _clean_up(self) -> None:
        """Cancel every task this socket started, leave the chat's and the user's groups, release its
        slot of the per-user cap and the open-sockets gauge. Runs on every exit, a handler's exception
        included; safe to run twice."""
        if self.counted:
            self.counted = False
            metrics.socket_closed()
        for task in getattr(self, "tasks", []):
            task.cancel()
        self.tasks = []
        self._stop_receiving_directly()
        if getattr(self, "subscribed", False):
            self.subscribed = False
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(chat_group(self.session.chat_id), self.channel_name)
        credential = getattr(self, "credential", None)
        if credential is not None:
            self.credential = None
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(user_group(credential.user_id), self.channel_name)
        counted = getattr(self, "counted_user", None)
        if counted is not None:
            self.counted_user = None
            _sockets_per_user[counted] -= 1
            if _sockets_per_user[counted] <= 0:
                del _sockets_per_user[counted]

    # --- credential re-checks ----------------------------------------------------------

    async def credential_recheck(self, message: dict[str, Any]) -> None:
        """A credential of this socket's user may have died (``credentials_changed`` in another process or
        this one): check it again now; the announced end of this socket's own session closes it at once."""
        if self.closing or self.credential is None:
            return
        organization_id = message.get("organization_id")
        if organization_id is not None and str(organization_id) != str(self.credential.organization_id):
            return
        ended = message.get("ended_session") or ""
        if ended and self.credential.session_key and ended == session_fingerprint(self.credential.session_key):
            await self._revoke("TOKEN_REVOKED", "You signed out; sign in and open the chat again.")
            return
        await self._credential_still_live()

    async def _credential_still_live(self) -> bool:
        """Check the socket's credential; a dead one gets ``chat.error`` and the socket closes with 4003."""
        if self.credential is None:
            return False
        try:
            await db_call(check_credential)(self.credential)
        except CredentialRevoked as revoked:
            await self._revoke(revoked.code, revoked.message)
            return False
        return True

    async def _revoke(self, code: str, message: str) -> None:
        """Close for a credential that died: nothing more is sent or accepted, then 4003 after the error."""
        if self.closing:
            return
        self.closing = True
        logger.info("closing chat socket of chat %s: %s", self.session.chat_id, code)
        self._stop_receiving_directly()
        for task in self.tasks:
            task.cancel()
        if self.subscribed:
            self.subscribed = False
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(chat_group(self.session.chat_id), self.channel_name)
        with contextlib.suppress(Exception):
            await self.send_frame(error_frame(code, message))
            await self.close(code=CREDENTIAL_REVOKED, reason="credential revoked")

    # --- outbound ----------------------------------------------------------------------

    def _queue(self, text: str) -> None:
        """Hand a frame to the sender; a client whose backlog passes the limit is closed (4008)."""
        if self.closing:
            return
        self.outbox.put_nowait(text)
        if self.outbox.qsize() > self.outbox_limit:
            self._drop_slow_client(f"{self.outbox.qsize()} frames unsent")

    async def _queue_paced(self, text: str) -> None:
        """Like :meth:`_queue`, but first wait until the outbox is under half full, so a replay longer
        than the limit streams at the client's pace. There is no deadline here: a client that stops
        reading is closed by the sender's stall timeout, which ends the wait."""
        while self.outbox.qsize() >= self.outbox_limit // 2 and not self.closing:
            self.drained.clear()
            await self.drained.wait()
        self._queue(text)

    def _drop_slow_client(self, why: str) -> None:
        """Stop serving a client that stopped reading: free its backlog, stop its tasks, close it (4008)."""
        if self.closing:
            return
        self.closing = True
        logger.warning("closing a slow chat socket of chat %s (%s)", self.session.chat_id, why)
        self.outbox = asyncio.Queue()
        self.drained.set()  # a paced replay stops waiting and ends
        for task in self.tasks:
            task.cancel()
        self.tasks = [asyncio.get_running_loop().create_task(self._close_slow())]

    async def _close_slow(self) -> None:
        """Leave the chat's group, then send 4008 without a deadline: the close frame waits behind what
        the server already buffered, so a client that reads again learns to resume; until then (or
        until the connection drops) this socket holds no frames and receives none."""
        self._stop_receiving_directly()
        if self.subscribed:
            self.subscribed = False
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(chat_group(self.session.chat_id), self.channel_name)
        with contextlib.suppress(Exception):
            await self.close(code=SLOW_CLIENT, reason="slow client: reconnect and resume")

    async def _send_loop(self) -> None:
        """Send queued frames in order. A frame the server has not taken within the stall timeout
        means the client stopped reading (its socket buffers are full): drop it."""
        while True:
            text = await self.outbox.get()
            if self.outbox.qsize() < self.outbox_limit // 2:
                self.drained.set()
            try:
                async with asyncio.timeout(self.stall_seconds):
                    await self.send_frame(text)
                metrics.frame_sent()
            except TimeoutError:
                self._drop_slow_client(f"no frame sent for {self.stall_seconds:g}s")
                return
            except OSError:  # the client is gone; disconnect() follows
                self.closing = True
                self.drained.set()
                return

    def _stop_receiving_directly(self) -> None:
        if getattr(self, "receiving_directly", False):
            self.receiving_directly = False
            detach_receiver(self.channel_layer, self.channel_name)

    async def send_frame(self, text: str) -> None:
        """Hand one text frame to the server (the sender task does this for every queued frame)."""
        await self._server_send({"type": "websocket.send", "text": text})

    async def _ping_loop(self) -> None:
        interval = mozaiks_settings().ws_ping_seconds
        while True:
            await asyncio.sleep(interval)
            self._queue(connection_frame("ping", {}))

    async def chat_frames(self, message: dict[str, Any]) -> None:
        """Committed events (and ``chat.print`` deltas) from the run, in seq order without duplicates."""
        metrics.frames_delivered(message.get("emitted_at"))
        for seq, text in message["frames"]:
            if seq is None:
                self._queue(text)
                continue
            if seq <= self.delivered_seq:
                continue
            if seq > self.delivered_seq + 1:
                await self._send_events_from_db(self.delivered_seq, seq - 1)
                if seq <= self.delivered_seq:
                    continue
            self._queue(text)
            self.delivered_seq = seq

    async def _send_events_from_db(self, after: int, up_to: int | None = None) -> int:
        """Send the committed events after ``after`` (through ``up_to``), a page of
        :data:`REPLAY_PAGE` at a time, at the client's pace; returns how many were sent."""
        count = 0
        while not self.closing:
            events = await db_call(services.events_after)(self.session, after, REPLAY_PAGE)
            for event in events:
                if self.closing or (up_to is not None and event.seq > up_to):
                    return count
                await self._queue_paced(_frame_of(event))
                self.delivered_seq = max(self.delivered_seq, event.seq)
                after = event.seq
                count += 1
            if len(events) < REPLAY_PAGE:
                break
        return count

    # --- inbound -----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Validate and act on one client frame; a bad frame gets a ``chat.error`` and the socket stays open."""
        if self.closing or not self.subscribed:
            return
        if not self.limiter.allow():
            if self.limiter.warn_now():
                self._queue(error_frame(RATE_LIMITED, "Too many frames; slow down (20 per second). Frames over "
                                        "the limit are dropped; this error is sent at most once a second."))
            # Read nothing more from this socket until the bucket refills: a flooding client's frames
            # wait in its own TCP buffers instead of costing this process a turn of the loop each.
            await asyncio.sleep(self.limiter.seconds_to_next_token())
            return
        if not await self._credential_still_live():
            return
        try:
            frame = parse_inbound(text_data, bytes_data, mozaiks_settings().ws_max_frame_bytes)
        except FrameError as error:
            metrics.frame_received(None)
            self._queue(error_frame(error.code, error.message, **error.details))
            return
        metrics.frame_received(frame.type)
        try:
            await self._handle(frame)
        except FrameError as error:
            self._queue(error_frame(error.code, error.message, **error.details))
        except services.ChatError as error:
            self._queue(error_frame(error.code, error.message, **error.details))

    async def _handle(self, frame: InboundFrame) -> None:
        frame = refuse_or_translate(frame)
        fields = frame.fields
        if frame.type == "chat.switch_workflow":
            await self._switch_workflow(fields)
        elif frame.type == "user.input.submit":
            outcome, request_id = await db_write(services.submit_user_text)(
                self.session, fields["text"], fields.get("input_request_id") or None, publish=False)
            if request_id is not None:
                await self._pass_answer(request_id, {"text": fields["text"]})
            self._queue(connection_frame("ack.input", {"status": outcome, "input_request_id": request_id}))
            self._queue(connection_frame("chat.input_ack", {"chat_id": self.session.chat_id, "status": "accepted",
                                                            "input_request_id": request_id}))
        elif frame.type == "ui_tool_response":
            event_id = str(fields.get("eventId", fields.get("event_id")))
            await db_write(services.answer_request)(
                self.session, event_id, fields["response"], kind=PendingRequest.Kind.UI_TOOL, publish=False)
            await self._pass_answer(event_id, fields["response"])
            self._queue(connection_frame("ack.ui_tool_response", {"eventId": event_id, "status": "accepted"}))
        elif frame.type == "client.resume":
            await self._resume(resume_position(fields), fields)
        elif frame.type == "chat.start_workflow":
            await self._start_workflow()

    async def _pass_answer(self, request_id: str, response: Any) -> None:
        """Hand an accepted (committed) answer to the run, wherever it executes."""
        await self.channel_layer.group_send(run_group(self.session.chat_id),
                                            services.answer_message(request_id, response))

    async def _resume(self, last_seq: int, fields: dict[str, Any]) -> None:
        """Send the events after ``last_seq`` this socket has not sent yet, mark the boundary, and
        re-send the open requests this socket has not shown (the client holds events through
        ``last_seq``; a socket's own frames always arrive, so nothing it sent is sent twice)."""
        self.session = await db_call(ChatSession.objects.get)(pk=self.session.pk)
        field_name = "last_seq" if "last_seq" in fields else "lastClientIndex"
        try:
            check_position(last_seq, self.session.last_seq, field_name)
        except PositionError as error:
            self._queue(error_frame(error.code, error.message, **error.details))
            return
        replayed = await self._send_events_from_db(max(last_seq, self.delivered_seq))
        if not self.closing:
            await self._send_boundary(last_seq, replayed)

    async def _send_boundary(self, client_had: int, replayed: int) -> None:
        """``chat.resume_boundary``, then every open request whose event this socket did not send."""
        self.session = await db_call(ChatSession.objects.get)(pk=self.session.pk)
        open_requests = await db_call(services.open_requests)(self.session)
        self._queue(connection_frame("chat.resume_boundary", {
            "replayed_events": replayed, "replayed_count": replayed, "client_had": client_had,
            "last_seq": self.delivered_seq, "persisted_had": self.session.last_seq,
            "total_messages": self.session.last_seq + 1, "status": self.session.status,
            "summary": f"Replayed {replayed} events after seq {client_had}.",
        }))
        for request in open_requests:
            if request.seq <= self.replay_from and request.request_id not in self.resent_requests:
                self.resent_requests.add(request.request_id)
                frame_type = "chat.input_request" if request.kind == PendingRequest.Kind.INPUT else "chat.tool_call"
                self._queue(connection_frame(frame_type, {**request.frame, "resent": True,
                                                          "original_seq": request.seq}))

    async def _switch_workflow(self, fields: dict[str, Any]) -> None:
        """``chat.switch_workflow {chat_id}``: confirm that the user may open that chat of this app
        (``chat.context_switched``); the client then opens that chat's own socket."""
        target = fields.get("chat_id")
        session = None
        if isinstance(target, str):  # a chat of the same organization only, like every other lookup
            session = await db_call(services.chat_for)(self.scope["user"], target,
                                                       organization_id=self.session.organization_id)
        if session is None or session.app_id != self.session.app_id:
            raise services.ChatError("CHAT_NOT_FOUND", f"chat.switch_workflow names chat {target!r}, which does not "
                                     "exist for you in this app; send the chat_id of one of your chats.", 404,
                                     {"field": "chat_id"})
        self._queue(connection_frame("chat.context_switched", {
            "from_chat_id": self.session.chat_id, "to_chat_id": session.chat_id, "chat_id": session.chat_id,
            "workflow_name": session.workflow, "app_id": session.app_id,
        }))

    async def _start_workflow(self) -> None:
        started = await db_call(services.start_run)(self.session)
        if started:
            self._queue(connection_frame("ack.start_workflow", {"status": "started"}))
            return
        await db_call(self.session.refresh_from_db)(fields=["status"])
        status = self.session.status
        if status in ChatSession.ACTIVE_STATUSES:
            raise services.ChatError("RUN_ALREADY_ACTIVE", "A run of this chat is already going.", 409)
        raise services.ChatError("CHAT_NOT_STARTABLE", f"This chat is {status}; send a message to continue it "
                                 "or start a new chat.", 409, {"status": status})


def _meta_top_level(meta: dict[str, Any]) -> dict[str, Any]:
    """The ``chat_meta`` fields the ChatUI reads from the frame itself rather than from ``data``."""
    return {"chat_exists": True, "cache_seed": meta["cache_seed"], "last_artifact": meta["last_artifact"]}


def _frame_of(event: ChatEvent) -> str:
    return event_frame(event.type, event.payload, event.seq, event.created_at)
