"""Styled error responses for refusals a user can meet in normal use.

Raising ``PermissionDenied`` makes Django log the refusal with a traceback, as if it were a
fault; a page that knows why it refuses renders the shell's 403 page itself. A 404 rendered here
is styled even with ``DEBUG`` on (Django's debug page is for URLs nobody routes).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, detail: str) -> HttpResponse:
    """The shell's 403 page saying ``detail`` (what the user lacks and who can grant it)."""
    return render(request, "403.html", {"detail": detail}, status=403)


def not_found(request: HttpRequest, detail: str) -> HttpResponse:
    """The shell's 404 page saying ``detail``."""
    return render(request, "404.html", {"detail": detail}, status=404)
