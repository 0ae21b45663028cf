"""Close codes under daphne: let the chat socket close with 1008 (and 1011) as it does under uvicorn.

daphne closes a socket through autobahn's ``sendClose``, which accepts only 1000 and 3000-4999
from an application and raises ``invalid close code 1008`` for anything else; daphne then logs the
traceback and closes with 1011 instead. RFC 6455 (section 7.4.1) defines 1008 (policy violation)
and 1011 (internal error) for exactly what the chat socket reports, and the protocol promises
1008 for a refused socket, so daphne's ``serverClose`` sends those codes with autobahn's own
``sendCloseFrame`` (the method ``sendClose`` ends in) and leaves every other code to autobahn.
"""

from __future__ import annotations

from typing import Any

# Codes an endpoint may send (RFC 6455 7.4.1; 1004-1006 and 1015 are never sent in a close frame).
SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, *range(3000, 5000)})


def allow_rfc_close_codes() -> None:
    """Patch daphne's ``WebSocketProtocol.serverClose`` once (a no-op when daphne is not installed)."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return
    if getattr(WebSocketProtocol.serverClose, "mozaiks_rfc_codes", False):
        return
    original = WebSocketProtocol.serverClose

    def server_close(self: Any, code: int | None = None) -> None:
        """Close with ``code`` (1000 when none), any code RFC 6455 lets an endpoint send."""
        code = 1000 if code is None else code
        if code in SENDABLE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    server_close.mozaiks_rfc_codes = True  # type: ignore[attr-defined]
    WebSocketProtocol.serverClose = server_close
