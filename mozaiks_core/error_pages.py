"""Styled error responses for refusals a user can meet in normal use.

Raising ``PermissionDenied`` makes Django log the refusal with a traceback, as if it were a
fault; a page that knows why it refuses renders the shell's 403 page itself. A 404 rendered here
is styled even with ``DEBUG`` on (Django's debug page is for URLs nobody routes).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import render

logger = logging.getLogger(__name__)
PLAIN_PAGE = "<!doctype html><html lang=\"en\"><title>{title}</title><h1>{title}</h1><p>{text}</p></html>"


def forbidden(request: HttpRequest, detail: str) -> HttpResponse:
    """The shell's 403 page saying ``detail`` (what the user lacks and who can grant it)."""
    return render(request, "403.html", {"detail": detail}, status=403)


def not_found(request: HttpRequest, detail: str) -> HttpResponse:
    """The shell's 404 page saying ``detail``."""
    return render(request, "404.html", {"detail": detail}, status=404)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the shell's 404, or Django's plain one when the shell cannot render.

    An error page must never fail: without ``collectstatic`` (a manifest entry missing) or with
    the database down, the styled page would turn a 404 into a 500.
    """
    try:
        return render(request, "404.html", status=404)
    except Exception:
        logger.warning("the styled 404 page could not be rendered; serving the plain one", exc_info=True)
        return HttpResponseNotFound(PLAIN_PAGE.format(title="Not Found",
                                                      text="The requested resource was not found on this server."))


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the styled 500 page, or Django's plain one when even that cannot render."""
    from django.views import defaults

    try:
        return defaults.server_error(request)
    except Exception:
        logger.warning("the styled 500 page could not be rendered; serving the plain one", exc_info=True)
        return HttpResponseServerError(PLAIN_PAGE.format(title="Server Error",
                                                         text="Something went wrong on our side."))
