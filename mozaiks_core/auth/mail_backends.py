"""The mail backend of a production server that has none configured: it sends nothing and prints nothing.

Django's console backend writes every message, password-reset and invitation links included,
into the server log, where anyone who reads the log can take over the account. With
``DEBUG=false`` and no ``EMAIL_URL``/``EMAIL_BACKEND`` this backend is used instead, and
``check --deploy`` fails with ``mozaiks.E020`` until a real backend is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
UNCONFIGURED_BACKEND = "mozaiks_core.auth.mail_backends.UnconfiguredEmailBackend"
HOW_TO_CONFIGURE = ("set EMAIL_URL=smtp://user:password@smtp.example.com:587?tls=true (or smtps://...:465), "
                    "or EMAIL_BACKEND to your provider's backend; see docs/configuration.md")


class UnconfiguredEmailBackend(BaseEmailBackend):
    """Drop every message with one warning that names neither its recipients nor its content."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Log that ``len(email_messages)`` messages were not sent; return 0 (none sent)."""
        if email_messages:
            logger.warning("%d email(s) NOT sent: this production server has no mail backend; %s.",
                           len(email_messages), HOW_TO_CONFIGURE)
        return 0
