"""Typed readers for environment variables that fail with one precise line.

Settings are 12-factor: every value comes from the environment. A malformed value stops
startup with :class:`EnvError`, whose message names the variable and the form it expects.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from mozaiks_core.log_redaction import redact

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """An environment variable is missing or malformed; the message says how to fix it.

    The message never carries a credential: passwords in URLs and keys are masked
    (:func:`mozaiks_core.log_redaction.redact`), whichever variable or check built it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


def run_with_config_errors(main: Callable[[], Any]) -> Any:
    """Run ``main`` and turn configuration errors into one line on stderr and exit code 2."""
    try:
        return main()
    except EnvError as error:
        sys.stderr.write(f"mozaiks: configuration error: {error}\n")
        raise SystemExit(2) from None


def env_str(name: str, default: str = "") -> str:
    """Return the variable stripped of surrounding whitespace, or ``default``."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean such as ``true``/``false``/``1``/``0``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name}={raw!r} is not a boolean; expected one of true, false, 1, 0, yes, no.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse an integer, optionally bounded."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not an integer; expected a whole number like {default}.") from None
    if minimum is not None and value < minimum:
        raise EnvError(f"{name}={value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise EnvError(f"{name}={value} is above the maximum {maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list, dropping empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Parse a value that must be one of ``choices``."""
    value = env_str(name, default).lower()
    if value not in choices:
        raise EnvError(f"{name}={value!r} is not supported; expected one of: {', '.join(choices)}.")
    return value


# WAL with synchronous=NORMAL: no fsync per commit (the WAL is synced at checkpoints). A crashed
# process loses nothing committed; a power cut may lose the last commits, never corrupts the file.
SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"


def sqlite_database(path: Path, *, conn_max_age: int = 60) -> dict[str, Any]:
    """The DATABASES entry of a SQLite file: WAL journal, immediate write transactions, kept connections.

    WAL lets pages read while the event writer commits; ``BEGIN IMMEDIATE`` takes the write lock
    up front (no upgrade deadlocks); connections are kept ``conn_max_age`` seconds, because
    reopening one (Django registers its SQL functions on every connect) cost more than the
    queries of a short database call.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": SQLITE_PRAGMAS},
    }


def parse_database_url(name: str, url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn ``sqlite:///path`` or ``postgres://user:pass@host:port/db`` into a DATABASES entry."""
    expected = "expected sqlite:///path/to/db.sqlite3 or postgres://user:password@host:5432/dbname"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query))
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        if parts.netloc or not raw_path or raw_path == "/":
            raise EnvError(f"{name}={url!r} has no database file; {expected}.")
        # sqlite:///relative/to/project.sqlite3 and sqlite:////absolute/path.sqlite3
        if raw_path.startswith("//"):
            path = Path("/" + raw_path.lstrip("/"))
        else:
            path = base_dir / raw_path.lstrip("/")
        return sqlite_database(path, conn_max_age=int(options.pop("conn_max_age", "60")))
    if scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not parts.hostname and "host" not in options:
            raise EnvError(f"{name}={url!r} names no host; {expected}.")
        if not database:
            raise EnvError(f"{name}={url!r} names no database; {expected}.")
        try:
            port = parts.port
        except ValueError:
            raise EnvError(f"{name}={url!r} has an invalid port; {expected}.") from None
        config: dict[str, Any] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": options.pop("host", parts.hostname or ""),
            "PORT": str(port or ""),
            "CONN_MAX_AGE": int(options.pop("conn_max_age", "60")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
        return config
    raise EnvError(f"{name}={url!r} uses an unsupported scheme {scheme or '(none)'!r}; {expected}.")


def validate_redis_url(name: str, url: str) -> str:
    """Check that ``url`` looks like ``redis://host:port/db`` (or ``rediss://``)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"} or (parts.scheme != "unix" and not parts.hostname):
        raise EnvError(f"{name}={url!r} is not a Redis URL; expected redis://host:6379/0 (or rediss:// for TLS).")
    try:
        _ = parts.port
    except ValueError:
        raise EnvError(f"{name}={url!r} has an invalid port; expected redis://host:6379/0.") from None
    return url


def check_redis_reachable(name: str, url: str) -> None:
    """Fail startup when the Redis server behind ``url`` does not answer a PING."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        raise EnvError(f"{name}={url!r} is not reachable ({error}); start Redis or fix the URL.") from None
