"""Request bodies within the parsing limits before any view reads them.

django-ninja, allauth's headless API, the Stripe webhook and module actions each call
``json.loads(request.body)`` themselves, whatever the ``Content-Type`` says; this middleware
checks every body first with :func:`mozaiks_core.parsing.check_json`, so a deeply nested or
oversized body is a structured 400 (``{error, message}``) on every route instead of a 500 in
whichever parser meets it. Multipart bodies (file uploads) are left to Django's own parser,
which never recurses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

from mozaiks_core.parsing import TOO_DEEP, DocumentTooComplex, check_json, parse_limits

BODY_TOO_DEEP = "BODY_TOO_DEEP"
BODY_TOO_LARGE = "BODY_TOO_LARGE"


def refuse_body(request: HttpRequest) -> JsonResponse | None:
    """The 400 for a body over the limits, or None when the body may be parsed."""
    if request.method in {"GET", "HEAD", "OPTIONS"} or request.content_type == "multipart/form-data":
        return None
    limits = parse_limits()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limits.max_bytes:  # refused before Django reads the body into memory
        return _refusal(BODY_TOO_LARGE, f"The request body has {declared} bytes; the limit is {limits.max_bytes} "
                        "bytes (MOZAIKS_PARSE_MAX_BYTES). Send a smaller body.")
    try:
        check_json(request.body, "The request body", limits=limits)
    except DocumentTooComplex as refusal:
        return _refusal(BODY_TOO_DEEP if refusal.reason == TOO_DEEP else BODY_TOO_LARGE, refusal.message)
    return None


def _refusal(code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": code, "message": message}, status=400)


class BoundedBodyMiddleware:
    """Answer 400 ``BODY_TOO_DEEP`` / ``BODY_TOO_LARGE`` before a view parses such a body."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        return refuse_body(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return refuse_body(request) or await self.get_response(request)
