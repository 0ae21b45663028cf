"""The chat socket's Origin check: the page that opens a socket must be this server's own origin.

A browser attaches the session cookie to a WebSocket handshake from any page, so the Origin is
what stops evil.example from opening a victim's chat. An origin is scheme + host + port: it must
equal the origin the socket was opened on (``ws`` → ``http``, ``wss`` → ``https``, the ``Host``
header, which must be in ``ALLOWED_HOSTS``) or be listed in ``CSRF_TRUSTED_ORIGINS`` (the same
setting, and the same ``https://*.example.com`` wildcards, as Django's CSRF check). Channels'
``AllowedHostsOriginValidator`` compared hosts only, so ``http://127.0.0.1:1`` passed for a server
on another port. Refused handshakes, and handshakes without an Origin, get HTTP 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """``(scheme, host, port)`` of an origin such as ``https://example.com:8443``; None when malformed."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the socket was opened on: its scheme and its ``Host`` header (if an allowed host)."""
    headers = dict(scope.get("headers") or [])
    host_header = headers.get(b"host", b"").decode("latin-1")
    if not host_header and scope.get("server"):
        host, port = scope["server"][:2]
        host_header = f"{host}:{port}" if port else str(host)
    domain, _ = split_domain_port(host_header)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") in {"wss", "https"} else "http"
    return parse_origin(f"{scheme}://{host_header}")


def trusted_origin(origin: Origin) -> bool:
    """Whether ``origin`` is in ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` matches subdomains)."""
    scheme, host, port = origin
    for entry in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1))
        if trusted is None or (trusted[0], trusted[2]) != (scheme, port):
            continue
        if host == trusted[1] or (wildcard and host.endswith("." + trusted[1])):
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    """The handshake's ``Origin`` is the socket's own origin or a trusted one."""
    headers = dict(scope.get("headers") or [])
    origin = parse_origin(headers.get(b"origin", b"").decode("latin-1"))
    if origin is None:
        return False
    return origin == own_origin(scope) or trusted_origin(origin)


class SameOriginValidator:
    """ASGI middleware: WebSocket handshakes from any other origin are refused with HTTP 403."""

    def __init__(self, application: Callable[..., Awaitable[None]]) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            await WebsocketDenier()(scope, receive, send)
            return
        await self.application(scope, receive, send)
