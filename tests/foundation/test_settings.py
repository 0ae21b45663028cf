"""Startup configuration: the environment decides, and bad values stop startup with one line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = secrets.token_urlsafe(50)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(("MOZAIKS_", "DJANGO_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"):
        base.pop(key, None)
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {"DEBUG": "false", "SECRET_KEY": STRONG_SECRET, "ALLOWED_HOSTS": "example.com",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
           "EMAIL_URL": "smtp://mailer:mail-password@smtp.example.com:587?tls=true"}
    env.update(overrides)
    return env


def test_production_settings_pass_check_deploy_with_zero_issues() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_refuses_a_missing_secret_key() -> None:
    env = production_env()
    env.pop("SECRET_KEY")
    result = run_manage("check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY is not set" in lines[0]


@pytest.mark.parametrize("published", ["change-me", "mozaiks-demo-secret-key-change-me-in-production-please-0000",
                                       "django-insecure-" + "x" * 50])
def test_production_refuses_a_published_secret_key(published: str) -> None:
    result = run_manage("check", env=production_env(SECRET_KEY=published))
    assert result.returncode == 2
    assert "SECRET_KEY is a published or weak value" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "nonsense", "DATABASE_URL='nonsense' uses an unsupported scheme"),
        ("DATABASE_URL", "postgres://127.0.0.1:5432/", "names no database"),
        ("DATABASE_URL", "postgres://127.0.0.1:notaport/db", "has an invalid port"),
        ("REDIS_URL", "http://127.0.0.1", "REDIS_URL='http://127.0.0.1' is not a Redis URL"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("MOZAIKS_LLM_PROVIDER", "magic", "MOZAIKS_LLM_PROVIDER='magic' is not supported"),
    ],
)
def test_malformed_environment_values_stop_startup_with_one_line_naming_the_variable(
    variable: str, value: str, expected: str
) -> None:
    result = run_manage("check", env={variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert lines[0].startswith("mozaiks: configuration error:")


def test_production_refuses_a_redis_url_that_points_nowhere() -> None:
    result = run_manage("check", env=production_env(REDIS_URL="redis://127.0.0.1:1/0"))
    assert result.returncode == 2
    assert "REDIS_URL='redis://127.0.0.1:1/0' is not reachable" in result.stderr


def test_stripe_billing_without_keys_is_refused() -> None:
    result = run_manage("check", env={"MOZAIKS_BILLING_PROVIDER": "stripe"})
    assert result.returncode == 2
    assert "STRIPE_SECRET_KEY" in result.stderr


def test_embedded_default_uses_sqlite_memory_layer_and_eager_celery() -> None:
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.MOZAIKS_LLM_PROVIDER,"
        " s.MOZAIKS_BILLING_PROVIDER, s.MOZAIKS_RUN_EXECUTOR)"
    )
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "mozaiks_core.settings"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["django.db.backends.sqlite3", "mozaiks_core.runtime.protocol.layers.LocalChannelLayer", "True",
                   "django.core.cache.backends.locmem.LocMemCache", "scripted", "local", "asyncio"]


def test_scale_out_switches_to_postgres_redis_layer_and_celery_workers() -> None:
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.MOZAIKS_RUN_EXECUTOR)"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mozaiks_core.settings",
               DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres", REDIS_URL="redis://127.0.0.1:6379/0")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["django.db.backends.postgresql", "channels_redis.pubsub.RedisPubSubChannelLayer", "False",
                   "django.core.cache.backends.redis.RedisCache", "celery"]


@pytest.mark.django_db  # pytest-django refuses any database connection in a test without it
def test_sqlite_connections_use_wal_without_an_fsync_per_commit(tmp_path: Path) -> None:
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from mozaiks_core.env import sqlite_database

    wrapper = DatabaseWrapper({**sqlite_database(tmp_path / "db.sqlite3"), "TIME_ZONE": None, "AUTOCOMMIT": True,
                               "ATOMIC_REQUESTS": False, "TEST": {}}, alias="pragma_check")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL (FULL is 2)
    finally:
        wrapper.close()
