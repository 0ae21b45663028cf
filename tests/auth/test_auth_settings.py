"""Auth settings from the environment: EMAIL_URL, social providers, execution token keys."""

from __future__ import annotations

import pytest

from mozaiks_core.auth.keys import DEMO_PRIVATE_KEY_PEM
from mozaiks_core.auth.mail_config import email_settings_from_url
from mozaiks_core.env import EnvError
from tests.foundation.test_settings import production_env, run_manage


def test_an_smtp_url_with_starttls_becomes_django_email_settings() -> None:
    config = email_settings_from_url("EMAIL_URL", "smtp://mailer%40example.com:p%40ss@smtp.example.com:587?tls=true")
    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
    }


def test_smtps_means_implicit_tls_on_port_465_and_console_selects_the_console_backend() -> None:
    assert email_settings_from_url("EMAIL_URL", "smtps://u:p@mail.example.com")["EMAIL_PORT"] == 465
    assert email_settings_from_url("EMAIL_URL", "console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "unsupported scheme 'http'"),
        ("smtp://", "names no host"),
        ("smtp://u:secret@host:notaport", "invalid port"),
        ("smtp://host?tls=maybe", "not a boolean"),
        ("smtp://host?tls=true&ssl=true", "not both"),
        ("smtp://host?starttls=1", "unknown option"),
    ],
)
def test_a_malformed_email_url_names_the_problem_without_echoing_the_password(url: str, message: str) -> None:
    with pytest.raises(EnvError, match=message) as caught:
        email_settings_from_url("EMAIL_URL", url)
    assert "secret" not in str(caught.value)
    assert "EMAIL_URL" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EMAIL_URL": "smtp://:pw@/"}, "EMAIL_URL"),
        ({"GITHUB_CLIENT_ID": "abc"}, "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set together"),
        ({"MOZAIKS_EXECUTION_TOKEN_PRIVATE_KEY": DEMO_PRIVATE_KEY_PEM}, "published demo key"),
    ],
)
def test_production_startup_stops_with_one_line_on_bad_auth_settings(env: dict[str, str], expected: str) -> None:
    result = run_manage("check", env=production_env(**env))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr


def test_a_dummy_cache_is_flagged_because_it_switches_rate_limits_off(settings) -> None:
    from mozaiks_core.auth.checks import rate_limits_need_a_real_cache

    assert rate_limits_need_a_real_cache() == []
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    (warning,) = rate_limits_need_a_real_cache()
    assert warning.id == "mozaiks_auth.W001"
