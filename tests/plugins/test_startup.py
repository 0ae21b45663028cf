"""Startup in a real subprocess: system checks and ``mozaiks validate`` on a fixture workspace, and
entry-point plugins found through ``importlib.metadata``."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.plugins.conftest import build_workspace, run_django, write

SAMPLE = Path(__file__).resolve().parents[1] / "sample_plugin"


@pytest.fixture(scope="module")
def broken_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_workspace(tmp_path_factory.mktemp("broken") / "app")
    write(root / "modules" / "admin" / "module.yaml", "schema_version: mozaiks.module.v1\nmodule: {id: admin}\n")
    write(root / "modules" / "notes" / "contracts" / "reactions.yaml", {"reactions": [
        {"id": "log", "on": "domain.notes.note_added", "kind": "handler", "handler_method": "on_missing"}]})
    write(root / "ui" / "pages" / "bad.yaml", "id: bad\n  title: [\n")
    calc = root / "modules" / "calc"
    write(calc / "module.yaml", {"schema_version": "mozaiks.module.v1",
                                 "module": {"id": "calc", "display_name": "Calc", "version": "1",
                                            "handler": "backend.handler:Calculator"}})
    write(calc / "backend" / "handler.py", "import not_installed_anywhere\n")
    return root


@pytest.mark.slow
def test_manage_py_check_lists_workspace_problems_with_ids_and_validate_fails(broken_workspace: Path,
                                                                              tmp_path: Path) -> None:
    env = {"MOZAIKS_APP_DIR": str(broken_workspace), "VAR": str(tmp_path)}
    check = run_django(["manage.py", "check"], dict(env))
    assert check.returncode != 0
    output = check.stderr + check.stdout
    assert "(mozaiks.E004) modules/admin/module.yaml:module.id: module id 'admin' collides" in output
    assert "(mozaiks.E001) ui/pages/bad.yaml:line 2 column" in output
    assert re.search(r"\(mozaiks\.E006\) .*modules/notes/contracts/reactions\.yaml:reactions\[0\]\.handler_method: "
                     r"reaction 'log' names unknown handler method 'on_missing'", output)

    assert re.search(r"\(mozaiks\.E005\) .*modules/calc/module\.yaml:module\.handler: handler "
                     r"'backend\.handler:Calculator' of module 'calc' cannot be loaded: ModuleNotFoundError", output)

    validate = run_django(["manage.py", "mozaiks", "validate"], dict(env))
    assert validate.returncode == 1
    assert "ERROR [mozaiks.E004] modules/admin/module.yaml:module.id" in validate.stdout
    assert "4 error(s)" in validate.stdout

    as_json = run_django(["manage.py", "mozaiks", "validate", "--format", "json"], dict(env))
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["errors"] == 4
    assert {"level": "error", "code": "mozaiks.E004", "file": "modules/admin/module.yaml", "path": "module.id",
            "message": "module id 'admin' collides with the installed Django app label 'admin'",
            "hint": "choose another module id (and rename the folder)"} in report["problems"]


@pytest.mark.slow
def test_validate_reports_the_demo_workspace_valid(tmp_path: Path) -> None:
    result = run_django(["manage.py", "mozaiks", "validate"], {"VAR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Workspace valid: 0 error(s)" in result.stdout


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the sample plugin into a private site folder: the package plus a real ``.dist-info``
    with the entry points of its pyproject.toml, exactly what ``importlib.metadata`` reads."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(SAMPLE / "mozaiks_sample_plugin", site / "mozaiks_sample_plugin")
    info = site / "mozaiks_sample_plugin-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mozaiks-sample-plugin\nVersion: 1.0.0\n")
    pyproject = (SAMPLE / "pyproject.toml").read_text()
    section = tomllib.loads(pyproject)["project"]["entry-points"]["mozaiks.plugins"]
    lines = "".join(f"{name} = {target}\n" for name, target in section.items())
    (info / "entry_points.txt").write_text(f"[mozaiks.plugins]\n{lines}")
    (site / "plugin_settings.py").write_text(
        "from mozaiks_core.settings import *  # noqa\nMOZAIKS_PLUGINS_CONFIG = {'sample': {'api_token': 't0k'}}\n")
    return site


PROBE = """
import django, json
django.setup()
from django.test import Client
from mozaiks_core.plugins.registry import loaded_plugins
print(json.dumps({p.name: [p.status, p.message, p.config] for p in loaded_plugins()}))
client = Client()
print(client.get('/api/plugins/sample/hello').content.decode())
print('Sample plugin' in client.get('/api/navigation').content.decode())
print('sample-plugin-footer' in client.get('/').content.decode())
"""


@pytest.mark.slow
def test_the_sample_entry_point_plugin_loads_and_the_too_old_one_is_skipped(plugin_site: Path, tmp_path: Path) -> None:
    result = run_django(["-c", PROBE], {"PYTHONPATH": str(plugin_site), "VAR": str(tmp_path),
                                        "DJANGO_SETTINGS_MODULE": "plugin_settings"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    plugins = json.loads(lines[0])
    assert plugins["sample"] == ["loaded", "", {"greeting": "hello", "api_token": "t0k"}]
    assert plugins["ancient"][0] == "skipped"
    assert plugins["ancient"][1] == "supports MozaiksCore <= 0.0.9, this is 0.1.0"
    assert "mozaiks plugin ancient 0.0.1 skipped" in result.stderr
    assert lines[1:] == ['{"hello": "from the sample plugin"}', "True", "True"]


@pytest.mark.slow
def test_a_plugin_missing_a_required_setting_stops_startup_naming_it(plugin_site: Path, tmp_path: Path) -> None:
    result = run_django(["manage.py", "check"], {"PYTHONPATH": str(plugin_site), "VAR": str(tmp_path)})
    assert result.returncode != 0
    assert "ImproperlyConfigured: Plugin 'sample' requires the setting 'api_token'" in result.stderr
