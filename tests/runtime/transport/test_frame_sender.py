"""Frames skip Channels' session wrappers (they act on HTTP responses only) and reach the server's send."""

from __future__ import annotations

from typing import Any

from channels.sessions import InstanceSessionWrapper

from mozaiks_core.runtime.transport.consumers import frame_sender


async def server_send(message: dict[str, Any]) -> None:
    """Stands in for the ASGI server's send."""


def wrapped(send: Any) -> Any:
    return InstanceSessionWrapper({"type": "websocket", "cookies": {}}, send).send


def test_a_frame_goes_to_the_servers_send_under_any_number_of_session_wrappers():
    assert frame_sender(wrapped(server_send)) is server_send
    assert frame_sender(wrapped(wrapped(server_send))) is server_send


def test_a_send_without_session_wrappers_is_kept_as_it_is():
    other = object()

    class Relay:
        real_send = other

        async def send(self, message: dict[str, Any]) -> None:
            """Not a session wrapper: must not be unwrapped."""

    relay = Relay().send
    assert frame_sender(server_send) is server_send
    assert frame_sender(relay) == relay
