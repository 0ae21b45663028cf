"""The project template round trip: generate a project, migrate it, check it, run its tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mozaiks_core.cli import RENDERED_EXTENSIONS, RENDERED_NAMES, TEMPLATE_DIR, startproject_arguments


def _clean_env(project: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MOZAIKS_", "DJANGO_", "PYTEST_")) and key not in {"DATABASE_URL", "REDIS_URL"}}
    env["PYTHONPATH"] = str(project)
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_clean_env(cwd), capture_output=True, text=True, timeout=300)


def test_startproject_arguments_render_every_template_file_type() -> None:
    args = startproject_arguments("mysite", "/tmp/x")
    assert args == ["startproject", "mysite", "/tmp/x", f"--template={TEMPLATE_DIR}", "-e", RENDERED_EXTENSIONS,
                    "-n", RENDERED_NAMES]


@pytest.mark.slow
def test_generated_project_migrates_checks_serves_health_and_passes_its_own_tests(tmp_path: Path) -> None:
    mozaiks = Path(sys.executable).with_name("mozaiks")
    created = _run([str(mozaiks), "startproject", "acmesite"], tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "acmesite"

    for relative in ["manage.py", "acmesite/settings.py", "acmesite/urls.py", "acmesite/asgi.py", "app/app.json",
                     "app/config/capabilities.yaml", "app/ui/pages/home.yaml",
                     "app/workflows/Welcome/orchestrator.yaml",
                     "app/modules/README.md", "app/brand/brand.json", "templates/README.md", "tests/test_smoke.py",
                     "README.md", ".env.example", "Makefile"]:
        assert (project / relative).is_file(), relative
    assert json.loads((project / "app/app.json").read_text())["appId"] == "acmesite"
    assert "{{" not in (project / "Makefile").read_text()
    assert "run:" in (project / "Makefile").read_text()
    assert "test:" in (project / "Makefile").read_text()

    python = sys.executable
    migrate = _run([python, "manage.py", "migrate", "--noinput"], project)
    assert migrate.returncode == 0, migrate.stderr
    assert (project / "var" / "mozaiks.sqlite3").exists()
    check = _run([python, "manage.py", "check"], project)
    assert check.returncode == 0, check.stderr
    probe = (
        "import os,django;os.environ.setdefault('DJANGO_SETTINGS_MODULE','acmesite.settings');django.setup();"
        "from django.test import Client;r=Client().get('/health');print(r.status_code, r.content.decode())"
    )
    health = _run([python, "-c", probe], project)
    assert health.returncode == 0, health.stderr
    assert health.stdout.startswith("200 ")
    assert json.loads(health.stdout.split(" ", 1)[1])["app_id"] == "acmesite"
    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "passed" in tests.stdout
