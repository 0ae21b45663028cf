"""System checks for account security settings that are easy to lose in a project's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from mozaiks_core.auth.mail_backends import HOW_TO_CONFIGURE, UNCONFIGURED_BACKEND


@register("security")
def rate_limits_need_a_real_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """allauth counts login and signup attempts in the default cache; a dummy cache silently disables that."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith("DummyCache"):
        return [Warning(
            "The default cache is DummyCache, so login, signup and password-reset rate limits never trigger.",
            hint="Use the local-memory cache (the default) or Redis (set REDIS_URL).",
            id="mozaiks_auth.W001",
        )]
    if getattr(settings, "ACCOUNT_RATE_LIMITS", None) is False:
        return [Warning("ACCOUNT_RATE_LIMITS = False turns off brute-force protection.",
                        hint="Remove the override.", id="mozaiks_auth.W002")]
    return []


@register("security", deploy=True)
def production_needs_a_mail_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG=false and no mail backend, verification, reset and invitation emails are never sent."""
    if settings.DEBUG or settings.EMAIL_BACKEND != UNCONFIGURED_BACKEND:
        return []
    return [Error(
        "No mail backend is configured and DEBUG is false: account, password-reset and invitation emails "
        "are not sent (the console backend, which would print their links into the log, is refused).",
        hint=HOW_TO_CONFIGURE[0].upper() + HOW_TO_CONFIGURE[1:] + ".", id="mozaiks.E020",
    )]
