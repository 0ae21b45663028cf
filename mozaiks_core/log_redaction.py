"""Keeping credentials out of logs and error messages: :func:`redact` and the logging filter around it.

Browsers can only authenticate a WebSocket through its URL, so chat sockets carry
``?access_token=<execution token>``; ASGI servers log the full path of every request and socket
(uvicorn's access log and its ``"WebSocket /ws/...?access_token=..." [accepted]`` line). Mail
carries password-reset and invitation links whose path *is* the credential, and configuration
URLs carry passwords (``redis://:PASSWORD@host``). :func:`redact` rewrites all of these to
``[redacted]`` (``***`` for a URL's password); the filter applies it to every record before any
handler formats it, and startup errors (:class:`mozaiks_core.env.EnvError`) apply it to their text.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(
    r"(?i)\b(access_token|token|api_key|apikey|key|secret|password|client_secret|code)=[^&\s\"'#]+")
# scheme://user:PASSWORD@host: the password runs to the last '@' of the authority (which ends at / ? #).
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s\"'?#]*:)[^\s\"'/?#]*@")
# Links whose path is the secret: allauth's password reset, our invitations, email confirmation.
SECRET_PATHS = re.compile(
    r"(?i)(/password/reset/key/|/invitations/|/confirm-email/|/email/confirm/)[^/\s\"'?#]+")
BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',]+")
# Credentials that name themselves: API keys (mzk_...), Stripe and OpenAI keys, JWTs.
SELF_NAMED = re.compile(
    r"\b(?:mzk_[A-Za-z0-9_-]{8,}|(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{8,}"
    r"|sk-[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)")


def redact(text: str) -> str:
    """``text`` with every credential it carries replaced (URL passwords, token parameters, secret links,
    bearer tokens, API/Stripe/OpenAI keys and JWTs)."""
    text = URL_PASSWORD.sub(r"\1***@", text)
    text = SECRET_PARAMETERS.sub(r"\1=[redacted]", text)
    text = SECRET_PATHS.sub(r"\1[redacted]", text)
    text = BEARER.sub(r"\1[redacted]", text)
    return SELF_NAMED.sub("[redacted]", text)


class RedactSecrets(logging.Filter):
    """Apply :func:`redact` to every record's message (and its traceback text); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
