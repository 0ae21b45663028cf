"""The CSRF exemption for same-origin JSON requests of a signed-in session.

Single-page clients that hold only the session cookie (the MozaiksAI ChatUI's ``startChat``) send
``Content-Type: application/json`` and no CSRF token. Such a request is accepted when its
``Origin`` is this site (the request's own scheme and host, or one of ``CSRF_TRUSTED_ORIGINS``)
and ``Sec-Fetch-Site``, when sent, says ``same-origin``. Why that is safe: a page of another site
cannot send a cookie-bearing JSON request without a CORS preflight, which this server never
grants; HTML forms cannot send JSON at all; and browsers always send ``Origin`` on cross-origin
requests, which must name this site. docs/security.md gives the full argument.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def same_origin_json(request: HttpRequest) -> bool:
    """Whether ``request`` is a JSON request from this site's own pages (no CSRF token needed)."""
    if request.method not in UNSAFE_METHODS:
        return False
    if request.content_type != "application/json":
        return False
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        return False
    if request.META.get("HTTP_SEC_FETCH_SITE", "same-origin") != "same-origin":
        return False
    own = f"{request.scheme}://{request.get_host()}"
    return origin == own or origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", [])
