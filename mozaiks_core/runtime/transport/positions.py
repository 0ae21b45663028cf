"""Where a socket's replay starts: the position a client states it holds, checked against the chat.

A client states the last ``seq`` it holds with ``?last_seq=`` on connect or ``client.resume``; -1
means none. A position that is not an integer, below -1, or beyond the chat's last event is refused
with a ``chat.error`` naming the field (the socket stays open).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from mozaiks_core.runtime.protocol.frames import SCHEMA_VALIDATION_FAILED

RESUME_BEYOND_END = "RESUME_BEYOND_END"


class PositionError(Exception):
    """A stated position the chat cannot honour; ``code``, ``message`` and ``details`` go in a ``chat.error``."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def check_position(position: int, chat_last_seq: int, field: str) -> None:
    """Raise :class:`PositionError` unless ``position`` is a seq the chat has (or -1)."""
    if position < -1:
        raise PositionError(SCHEMA_VALIDATION_FAILED, f"{field}={position} is negative; send the last seq you "
                            "received, or -1 for none.", field=field)
    if position > chat_last_seq:
        raise PositionError(RESUME_BEYOND_END, f"{field}={position} is beyond this chat's last event (seq "
                            f"{chat_last_seq}); send a seq you received from this chat, or -1 for none.",
                            field=field, last_seq=chat_last_seq)


def stated_position(query_string: bytes, chat_last_seq: int) -> tuple[int | None, PositionError | None]:
    """The ``?last_seq=`` of a socket URL: ``(None, None)`` when absent, ``(None, error)`` when unusable
    (the socket then replays everything), else ``(position, None)``."""
    values = parse_qs(query_string.decode("latin-1")).get("last_seq")
    if not values:
        return None, None
    raw = values[0].strip()
    try:
        position = int(raw)
    except ValueError:
        return None, PositionError(SCHEMA_VALIDATION_FAILED, f"last_seq={raw[:40]!r} is not a number; send the last "
                                   "seq you received as an integer (-1 for none), or leave it out to receive the "
                                   "whole chat.", field="last_seq")
    try:
        check_position(position, chat_last_seq, "last_seq")
    except PositionError as error:
        return None, error
    return position, None
