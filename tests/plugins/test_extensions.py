"""Module extensions: runtime_extensions.yaml (API router, worker startup service) and admin.yaml."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.plugins import workers
from mozaiks_core.plugins.bootstrap import cached_workspace
from tests.plugins.conftest import write


@pytest.mark.django_db
def test_a_module_api_router_is_mounted_under_the_module_prefix_and_scoped_to_the_caller() -> None:
    user = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    client = Client()
    client.force_login(user)
    client.post("/tasks", {"_block": "1", "title": "Exported task"})
    response = client.get("/api/modules/tasks/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response.content.decode().splitlines()[1].split(",")[1] == "Exported task"
    assert Client().get("/api/modules/tasks/export.csv").status_code == 401


def test_admin_yaml_registers_the_module_model_with_its_options() -> None:
    from mozaiks_modules.tasks.models import Task

    model_admin = admin.site._registry[Task]
    assert model_admin.list_filter == ("done", "organization")
    assert model_admin.search_fields == ("title",)


def test_the_worker_profile_starts_each_startup_service_and_a_failing_one_does_not_stop_the_others(
        workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    marker = tmp_path / "started.txt"
    notes = workspace_dir / "modules" / "notes"
    write(notes / "runtime_extensions.yaml", {"startup_service": "backend.service:start"})
    write(notes / "backend" / "service.py", f"def start():\n    open({str(marker)!r}, 'w').write('notes')\n")
    broken = workspace_dir / "modules" / "broken_service"
    write(broken / "module.yaml", {"schema_version": "mozaiks.module.v1",
                                   "module": {"id": "broken_service", "display_name": "B", "version": "1"}})
    write(broken / "runtime_extensions.yaml", {"startup_service": "backend.service:start"})
    write(broken / "backend" / "service.py", "def start():\n    raise RuntimeError('no queue')\n")
    workspace = cached_workspace(workspace_dir)
    monkeypatch.setattr(workers, "get_workspace", lambda: workspace)
    with caplog.at_level(logging.ERROR):
        assert workers.start_services() == ["notes"]
    assert marker.read_text() == "notes"
    assert "startup service backend.service:start of module broken_service failed" in caplog.text
