"""A logging filter that keeps credentials in URLs out of the logs.

Browsers can only authenticate a WebSocket through its URL, so chat sockets carry
``?access_token=<execution token>``; ASGI servers log the full path of every request and socket
(uvicorn's access log and its ``"WebSocket /ws/...?access_token=..." [accepted]`` line). This
filter rewrites such values to ``[redacted]`` in every record it sees, before any handler formats it.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(r"(?i)\b(access_token|token|api_key|apikey|key|secret|password)=[^&\s\"'#]+")


class RedactSecrets(logging.Filter):
    """Replace the values of credential-like URL parameters with ``[redacted]``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SECRET_PARAMETERS.sub(r"\1=[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
