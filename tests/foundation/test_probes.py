"""The health and readiness probes and the API root."""

from __future__ import annotations

import pytest
from django.test import Client

from mozaiks_core import __version__


@pytest.mark.dbmatrix
@pytest.mark.django_db
def test_health_answers_ok_with_app_id_and_version(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app_id": "mozaiks-demo", "version": __version__}


@pytest.mark.dbmatrix
@pytest.mark.django_db
def test_ready_checks_database_cache_and_channel_layer(client: Client) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_ready_reports_503_naming_the_failing_service(client: Client, settings: object) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # type: ignore[attr-defined]
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_openapi_docs_and_schema_are_served(client: Client) -> None:
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "MozaiksCore API"


@pytest.mark.django_db
def test_admin_login_page_is_served(client: Client) -> None:
    assert client.get("/admin/login/").status_code == 200
