"""Structured logs: the log context (request, chat, run, organization) and the JSON line formatter.

``settings.LOGGING`` uses :class:`JsonFormatter` in production (``DEBUG=false``) and a plain text
format in development; both carry the fields of :data:`CONTEXT_FIELDS` that are known where the
record is made. Code that knows a field binds it for a block with :func:`log_context`; the value
follows the block's asyncio tasks and ``asgiref`` threads (it is a ``contextvars`` value).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("request_id", "chat_id", "run_id", "org")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("mozaiks_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (of :data:`CONTEXT_FIELDS`; empty values skipped) to every record made in the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> contextvars.Token[dict[str, str]]:
    """Add ``fields`` to the current context until the returned token is reset (``unbind``)."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"log context fields {sorted(unknown)} are unknown; use {', '.join(CONTEXT_FIELDS)}")
    merged = {**_context.get(), **{key: str(value) for key, value in fields.items() if value not in (None, "")}}
    return _context.set(merged)


def unbind(token: contextvars.Token[dict[str, str]]) -> None:
    """Restore the context from before :func:`bind`."""
    _context.reset(token)


def current_context() -> dict[str, str]:
    """The fields bound now (a copy)."""
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copy the bound context onto each record (``record.context``, and ``record.ctx`` as text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.context = context
        record.ctx = "".join(f" {key}={context[key]}" for key in CONTEXT_FIELDS if key in context)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, the context, ``exc`` if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "context", None) or _context.get())
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def logging_config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict: JSON lines or plain text, secrets redacted, context added on every record."""
    plain = "%(asctime)s %(levelname)s %(name)s:%(ctx)s %(message)s"
    formatter = {"()": "mozaiks_core.observability.logs.JsonFormatter"} if json_lines else {"format": plain}
    filters = ["redact_secrets", "log_context"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        # Chat sockets carry ?access_token=...: the ASGI servers' request lines must not log it.
        "filters": {
            "redact_secrets": {"()": "mozaiks_core.log_redaction.RedactSecrets"},
            "log_context": {"()": "mozaiks_core.observability.logs.ContextFilter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default", "filters": filters}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "mozaiks_core": {"level": level, "propagate": True},
            "django": {"level": "WARNING", "propagate": True},
            "uvicorn.error": {"filters": ["redact_secrets"]},
            "uvicorn.access": {"handlers": ["console"], "filters": ["redact_secrets"], "propagate": False},
            "celery": {"level": "INFO", "propagate": True},
        },
    }
