"""Turn ``EMAIL_URL`` into Django's email settings (read by ``settings.py`` before Django starts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_EXPECTED = ("expected smtp://user:password@host:587?tls=true, smtps://user:password@host:465, file:// "
             "(into EMAIL_FILE_PATH) or console:// (development only)")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",  # into EMAIL_FILE_PATH, never the log
}


class EmailURLError(ImproperlyConfigured):
    """``EMAIL_URL`` is malformed; the message names the problem and the expected form."""


def _flag(name: str, url: str, options: dict[str, str], key: str) -> bool:
    raw = options.get(key, "false").lower()
    if raw not in _TRUE | _FALSE:
        raise EmailURLError(f"{name}={_redact(url)!r}: ?{key}={raw} is not a boolean; use true or false.")
    return raw in _TRUE


def _redact(url: str) -> str:
    from mozaiks_core.log_redaction import redact

    return redact(url)


def email_settings_from_url(name: str, url: str) -> dict[str, Any]:
    """Settings for ``url``: ``EMAIL_BACKEND``, ``EMAIL_HOST``, ``EMAIL_PORT``, credentials, TLS/SSL, timeout."""
    from mozaiks_core.env import EnvError

    try:
        return _parse(name, url)
    except EmailURLError as error:
        raise EnvError(str(error)) from None


def _parse(name: str, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _BACKENDS:
        return {"EMAIL_BACKEND": _BACKENDS[scheme]}
    if scheme not in {"smtp", "smtps"}:
        raise EmailURLError(f"{name}={_redact(url)!r} uses an unsupported scheme {scheme or '(none)'!r}; {_EXPECTED}.")
    if not parts.hostname:
        raise EmailURLError(f"{name}={_redact(url)!r} names no host; {_EXPECTED}.")
    try:
        port = parts.port
    except ValueError:
        raise EmailURLError(f"{name}={_redact(url)!r} has an invalid port; {_EXPECTED}.") from None
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - {"tls", "ssl", "timeout"}
    if unknown:
        raise EmailURLError(f"{name}: unknown option(s) {', '.join(sorted(unknown))}; use tls, ssl or timeout.")
    use_ssl = scheme == "smtps" or _flag(name, url, options, "ssl")
    use_tls = _flag(name, url, options, "tls")
    if use_ssl and use_tls:
        raise EmailURLError(f"{name}: choose tls=true (STARTTLS, port 587) or ssl (port 465), not both.")
    timeout_raw = options.get("timeout", "10")
    if not timeout_raw.isdigit() or int(timeout_raw) < 1:
        raise EmailURLError(f"{name}: timeout={timeout_raw} is not a positive number of seconds.")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": int(timeout_raw),
    }
