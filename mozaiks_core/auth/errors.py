"""The JSON error envelope of the accounts API and of authentication on every ``/api/`` route.

Billing, entitlements, plugins and the runtime answer ``{"error": CODE, "message": text, ...}``.
The accounts API answered ``{"code", "detail"}``; its bodies now carry both pairs (same values),
so clients written for either shape keep working. Credential failures raise
:class:`CredentialRefused`; :func:`install_error_handlers` turns them, and ninja's "no
credentials" 401, into that envelope.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

logger = logging.getLogger(__name__)

DATABASE_RETRY_SECONDS = 5


def error_response(status: int, code: str, message: str, *, retry_after: int | None = None,
                   details: dict[str, Any] | None = None) -> JsonResponse:
    """``{error, message}`` plus the accounts API's legacy ``{code, detail}`` and ``details``, with ``status``."""
    body = {**(details or {}), "error": code, "message": message, "code": code, "detail": message}
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


class CredentialRefused(HttpError):
    """The request's credential was refused, or could not be checked (``status`` 503, ``retry_after``).

    A subclass of ninja's ``HttpError``: a NinjaAPI without :func:`install_error_handlers` still
    answers the right status, with ninja's plain ``{detail}`` body.
    """

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(status, message)
        self.code = code
        self.retry_after = retry_after


def database_unavailable() -> CredentialRefused:
    """The refusal for a credential check that could not reach the database: an outage, so retry."""
    return CredentialRefused(503, "SERVICE_UNAVAILABLE",
                             "The service cannot check credentials right now (database unavailable); "
                             f"retry in {DATABASE_RETRY_SECONDS} seconds.", retry_after=DATABASE_RETRY_SECONDS)


def _credential_refused(request: HttpRequest, exc: CredentialRefused) -> JsonResponse:
    return error_response(exc.status_code, exc.code, exc.message, retry_after=exc.retry_after)


def _authentication_required(request: HttpRequest, exc: AuthenticationError) -> JsonResponse:
    return error_response(401, "AUTHENTICATION_REQUIRED", "Sign in, or send 'Authorization: Bearer <API key or "
                          "execution token>'.")


def _database_unreachable(request: HttpRequest, exc: Exception) -> JsonResponse:
    # Logged with the driver's message; the client gets no server detail, only when to retry.
    logger.error("database unavailable during %s %s: %s", request.method, request.path, exc)
    return error_response(503, "SERVICE_UNAVAILABLE", "The service cannot reach its database right now, so this "
                          f"request may not have completed; retry in {DATABASE_RETRY_SECONDS} seconds.",
                          retry_after=DATABASE_RETRY_SECONDS)


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer credential refusals, missing credentials and database outages on ``api`` with the shared envelope.

    A database outage inside an endpoint (``OperationalError``: connection refused or dropped;
    ``InterfaceError``: connection already closed) is a 503 with ``Retry-After``, not a 500;
    the client retries after ``Retry-After``.
    """
    api.add_exception_handler(CredentialRefused, _credential_refused)
    api.add_exception_handler(AuthenticationError, _authentication_required)
    api.add_exception_handler(OperationalError, _database_unreachable)
    api.add_exception_handler(InterfaceError, _database_unreachable)
