"""Credentials stay out of logs and startup errors, as an operator (or whoever reads their logs) meets them.

Finding 5: a production server without a mail backend printed password-reset and invitation
links into its log (Django's console backend) and ``check --deploy`` saw nothing. Finding 6:
startup errors echoed the password of ``REDIS_URL`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from mozaiks_core.auth.mail_config import email_settings_from_url
from mozaiks_core.env import EnvError, check_redis_reachable, parse_database_url, validate_redis_url
from mozaiks_core.log_redaction import RedactSecrets
from tests.foundation.test_settings import REPO_ROOT, production_env, run_manage

PASSWORD = "pw" + secrets.token_hex(10)


# --- 6: every secret masked in every error message ---------------------------------------------


URLS = [
    ("REDIS_URL", f"redis://:{PASSWORD}@127.0.0.1:1/9", "is not reachable"),
    ("REDIS_URL", f"redis://user:{PASSWORD}@127.0.0.1:notaport/9", "has an invalid port"),
    ("REDIS_URL", f"http://user:{PASSWORD}@127.0.0.1:6379/9", "is not a Redis URL"),
    ("DATABASE_URL", f"mysql://user:{PASSWORD}@127.0.0.1:3306/db", "unsupported scheme"),
    ("DATABASE_URL", f"postgres://user:{PASSWORD}@127.0.0.1:notaport/db", "has an invalid port"),
    ("DATABASE_URL", f"postgres://user:{PASSWORD}@127.0.0.1:5432/", "names no database"),
    ("DATABASE_URL", f"postgres://user:{PASSWORD}@/db", "names no host"),
    ("EMAIL_URL", f"smtp://user:{PASSWORD}@smtp.example.com:notaport", "has an invalid port"),
    ("EMAIL_URL", f"imap://user:{PASSWORD}@mail.example.com", "unsupported scheme"),
]


def _check(variable: str, url: str) -> None:
    """What settings.py does with ``url`` in ``variable`` at startup."""
    if variable == "REDIS_URL":
        validate_redis_url(variable, url)
        check_redis_reachable(variable, url)
    elif variable == "DATABASE_URL":
        parse_database_url(variable, url, base_dir=REPO_ROOT)
    else:
        email_settings_from_url(variable, url)


@pytest.mark.parametrize(("variable", "url", "expected"), URLS)
def test_a_malformed_or_unreachable_url_is_refused_without_its_password(variable: str, url: str,
                                                                       expected: str) -> None:
    with pytest.raises(EnvError) as caught:
        _check(variable, url)
    assert expected in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert ":***@" in str(caught.value)


@pytest.mark.parametrize(("variable", "url", "expected"), [URLS[0], URLS[3], URLS[4]])
def test_startup_stops_with_one_line_that_masks_the_password(variable: str, url: str, expected: str) -> None:
    result = run_manage("check", env=production_env(**{variable: url}))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr, result.stderr
    assert PASSWORD not in result.stderr + result.stdout, result.stderr
    assert "***" in result.stderr, result.stderr


def test_a_broker_url_in_a_log_line_is_masked() -> None:
    record = logging.LogRecord("celery", logging.ERROR, __file__, 1, "cannot connect to %s",
                               (f"redis://:{PASSWORD}@127.0.0.1:1/9",), None)
    RedactSecrets().filter(record)
    assert PASSWORD not in record.getMessage()


# --- 5: production never prints mail -----------------------------------------------------------


def test_production_without_a_mail_backend_fails_check_deploy_with_mozaiks_e020_naming_email_url() -> None:
    env = production_env()
    env.pop("EMAIL_URL")
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "mozaiks.E020" in output, output
    assert "EMAIL_URL=smtp://" in output


def test_production_refuses_to_start_with_the_console_mail_backend() -> None:
    console_backend = production_env(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    console_backend.pop("EMAIL_URL")
    for env in (production_env(EMAIL_URL="console://"), console_backend):
        result = run_manage("check", env=env)
        assert result.returncode == 2, result.stderr
        assert "console mail backend prints every email" in result.stderr
        assert "EMAIL_URL" in result.stderr


def test_a_production_password_reset_prints_no_link_into_the_server_output(tmp_path: Path) -> None:
    code = (
        "import django;django.setup();from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "from django.contrib.auth import get_user_model;"
        "get_user_model().objects.create_user(username='v', email='victim@example.com', password='pw-123456789');"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='example.com', **{'wsgi.url_scheme': 'https'}).post("
        "'/_allauth/browser/v1/auth/password/request', '{\"email\": \"victim@example.com\"}',"
        " content_type='application/json', secure=True);"
        "print('STATUS', r.status_code)"
    )
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path}/reset.sqlite3", MOZAIKS_VAR_DIR=str(tmp_path))
    env.pop("EMAIL_URL")
    env["DJANGO_SETTINGS_MODULE"] = "mozaiks_core.settings"
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("MOZAIKS_", "DJANGO_", "PYTEST_")) and key not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**base, **env}, capture_output=True,
                            text=True, timeout=120)
    output = result.stdout + result.stderr
    assert "STATUS 200" in output, output
    assert "password/reset/key" not in output, output
    assert "Subject:" not in output, output
    assert "NOT sent" in output  # the operator learns mail is not configured, without the message


def test_the_log_filter_removes_reset_invitation_and_token_links_and_keys() -> None:
    lines = [
        "https://app.example.com/accounts/password/reset/key/3-c4f2ab-9d1e7f0c2a/",
        "Accept: https://app.example.com/invitations/Zm9vYmFyYmF6cXV1eDEyMzQ1Njc4OTA/",
        "GET /ws/Chatter/app/c1/1?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "Authorization: Bearer mzk_abcdef12_secretsecretsecret",
        "stripe key sk_live_abcdefghijklmnop and whsec_abcdefghijkl, openai sk-abcdefghijklmnopqrstuv",
    ]
    for line in lines:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s", (line,), None)
        RedactSecrets().filter(record)
        message = record.getMessage()
        for secret in ("3-c4f2ab-9d1e7f0c2a", "Zm9vYmFyYmF6cXV1eDEyMzQ1Njc4OTA", "c2lnbmF0dXJl",
                       "secretsecretsecret", "abcdefghijklmnop", "abcdefghijkl,", "abcdefghijklmnopqrstuv"):
            assert secret not in message, message
        assert "[redacted]" in message
