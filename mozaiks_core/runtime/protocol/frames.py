"""The chat protocol's frames: building outbound frames and validating inbound ones.

Every frame is ``{"type", "data", "timestamp"}``; chat events also carry ``seq``. Inbound frames
may put their fields under ``data`` (this protocol) or at the top level (the MozaiksAI ChatUI
client does); both are accepted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mozaiks_core.parsing import TOO_DEEP, DocumentTooComplex, check_json

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
FRAME_TOO_DEEP = "FRAME_TOO_DEEP"
RATE_LIMITED = "RATE_LIMITED"

INBOUND_TYPES = ("user.input.submit", "ui_tool_response", "ui.tool.response", "client.resume",
                 "chat.start_workflow", "chat.switch_workflow", "chat.enter_general_mode",
                 "chat.start_general_chat", "chat.artifact_action", "pong")
_MAX_TEXT_CHARS = 20_000


def now_iso(moment: datetime | None = None) -> str:
    """ISO-8601 UTC timestamp with a ``Z`` suffix, as the ChatUI client expects."""
    value = moment or datetime.now(UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def connection_frame(frame_type: str, data: dict[str, Any] | None = None, **top_level: Any) -> str:
    """A frame without ``seq`` (chat_meta, ack.*, ping, chat.resume_boundary, chat.print, errors).

    ``top_level`` adds keys beside ``data`` (``chat_meta`` repeats a few there: the ChatUI reads them
    from the frame itself)."""
    return json.dumps({"type": frame_type, "data": data or {}, "timestamp": now_iso(), **top_level})


def event_frame(event_type: str, data: dict[str, Any], seq: int, created: datetime) -> str:
    """A persisted chat event as a socket frame (identical on live delivery and on replay)."""
    return json.dumps({"type": event_type, "data": data, "timestamp": now_iso(created), "seq": seq})


def event_frame_from_json(event_type: str, data_json: str, seq: int, created: datetime) -> str:
    """:func:`event_frame` around data already serialized (the run serializes each payload once)."""
    return (f'{{"type": {json.dumps(event_type)}, "data": {data_json}, '
            f'"timestamp": "{now_iso(created)}", "seq": {int(seq)}}}')


def error_frame(error_code: str, message: str, **details: Any) -> str:
    """A ``chat.error`` answering the client's own bad frame (no ``seq``; nothing is persisted)."""
    return connection_frame("chat.error", {"message": message, "error_code": error_code, **details})


class FrameError(Exception):
    """An inbound frame the server refuses; ``code`` and ``message`` go back in a ``chat.error``."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class InboundFrame:
    """A validated client frame: its type and its fields (``data`` merged over top-level keys)."""

    type: str
    fields: dict[str, Any]


def parse_inbound(text: str | None, binary: bytes | None, max_bytes: int) -> InboundFrame:
    """Validate one client frame; raise :class:`FrameError` naming what is wrong and what to send."""
    if binary is not None:
        raise FrameError(SCHEMA_VALIDATION_FAILED, "Binary frames are not accepted; send JSON text frames.")
    raw = text or ""
    try:
        check_json(raw, "The frame", max_bytes=max_bytes, size_setting="MOZAIKS_WS_MAX_FRAME_BYTES")
    except DocumentTooComplex as error:
        code = FRAME_TOO_DEEP if error.reason == TOO_DEEP else FRAME_TOO_LARGE
        raise FrameError(code, error.message, limit=error.limit) from None
    try:
        message = json.loads(raw)
    except ValueError as error:
        raise FrameError(SCHEMA_VALIDATION_FAILED, f"The frame is not valid JSON ({error}).") from None
    if not isinstance(message, dict):
        raise FrameError(SCHEMA_VALIDATION_FAILED, "A frame must be a JSON object with a 'type' field.")
    frame_type = message.get("type")
    if frame_type not in INBOUND_TYPES:
        raise FrameError(
            SCHEMA_VALIDATION_FAILED,
            f"Unknown frame type {frame_type!r}; expected one of: {', '.join(INBOUND_TYPES)}.",
            field="type",
        )
    data = message.get("data", {})
    if not isinstance(data, dict):
        raise FrameError(SCHEMA_VALIDATION_FAILED, "'data' must be a JSON object.", field="data")
    fields = {key: value for key, value in message.items() if key not in {"type", "data"}}
    fields.update(data)
    _check_fields(frame_type, fields)
    return InboundFrame(type=frame_type, fields=fields)


def _check_fields(frame_type: str, fields: dict[str, Any]) -> None:
    if frame_type == "user.input.submit":
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError(SCHEMA_VALIDATION_FAILED, "user.input.submit needs 'text', a non-empty string.",
                             field="text")
        if len(text) > _MAX_TEXT_CHARS:
            raise FrameError(SCHEMA_VALIDATION_FAILED, f"'text' is longer than {_MAX_TEXT_CHARS} characters.",
                             field="text")
        request_id = fields.get("input_request_id")
        if request_id is not None and not isinstance(request_id, str):
            raise FrameError(SCHEMA_VALIDATION_FAILED, "'input_request_id' must be a string.",
                             field="input_request_id")
    elif frame_type in ("ui_tool_response", "ui.tool.response"):
        event_id = fields.get("eventId", fields.get("event_id"))
        if not isinstance(event_id, str) or not event_id:
            raise FrameError(SCHEMA_VALIDATION_FAILED, "ui_tool_response needs 'eventId', the tool call's id.",
                             field="eventId")
        if "response" not in fields:
            raise FrameError(SCHEMA_VALIDATION_FAILED, "ui_tool_response needs 'response' (the form's answer).",
                             field="response")
    elif frame_type == "client.resume":
        name = "last_seq" if "last_seq" in fields or "lastClientIndex" not in fields else "lastClientIndex"
        value = fields.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise FrameError(
                SCHEMA_VALIDATION_FAILED,
                f"client.resume has {name}={value!r}; send 'last_seq' (or 'lastClientIndex'), the last seq you "
                "received as an integer, -1 for none.",
                field=name,
            )


def resume_position(fields: dict[str, Any]) -> int:
    """The last seq the client holds, from ``last_seq`` or the ChatUI's ``lastClientIndex``."""
    return int(fields.get("last_seq", fields.get("lastClientIndex", -1)))
