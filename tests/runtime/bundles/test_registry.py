"""The workflow registry: roots, caching, DEBUG reloads and ``manage.py mozaiks validate``."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mozaiks_core.runtime.bundles import get_registry
from mozaiks_core.runtime.bundles import registry as registry_module

ROOT = Path(__file__).resolve().parents[3]


def test_the_registry_loads_app_workflows_and_then_the_extra_roots(settings, fixtures, tmp_path):
    settings.MOZAIKS_APP_DIR = tmp_path
    shutil.copytree(fixtures / "HelloWorld", tmp_path / "workflows" / "HelloWorld")
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(fixtures / "errors")]

    registry = get_registry(refresh=True)

    assert set(registry.bundles) == {"HelloWorld", "Valid"}
    assert "NoAgents" in registry.errors
    assert registry.problems[0].level == "error"


def test_the_demo_workspace_workflow_loads_without_problems(settings):
    settings.MOZAIKS_APP_DIR = ROOT / "app"
    settings.MOZAIKS_WORKFLOW_ROOTS = []

    registry = get_registry(refresh=True)

    assert "ProductLaunch" in registry.bundles
    assert registry.problems == []


def test_with_debug_a_changed_file_reloads_the_bundle(settings, fixtures, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "_SCAN_INTERVAL_SECONDS", 0)
    settings.DEBUG = True
    settings.MOZAIKS_APP_DIR = tmp_path
    settings.MOZAIKS_WORKFLOW_ROOTS = []
    bundle_dir = tmp_path / "workflows" / "Valid"
    shutil.copytree(fixtures / "errors" / "Valid", bundle_dir)
    first = get_registry(refresh=True)
    assert get_registry() is first  # nothing changed: the cached registry

    (bundle_dir / "orchestrator.yaml").write_text("workflow_name: Valid\norchestration_pattern: Nope\n")
    os.utime(bundle_dir / "orchestrator.yaml", ns=(1, 1))

    second = get_registry()
    assert second is not first
    assert "Valid" in second.errors


def test_without_debug_the_registry_is_not_rescanned(settings, fixtures, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "_SCAN_INTERVAL_SECONDS", 0)
    settings.DEBUG = False
    settings.MOZAIKS_APP_DIR = tmp_path
    settings.MOZAIKS_WORKFLOW_ROOTS = []
    bundle_dir = tmp_path / "workflows" / "Valid"
    shutil.copytree(fixtures / "errors" / "Valid", bundle_dir)
    first = get_registry(refresh=True)

    (bundle_dir / "orchestrator.yaml").write_text("workflow_name: Valid\norchestration_pattern: Nope\n")

    assert get_registry() is first


def _validate(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MOZAIKS_WORKFLOW_ROOTS": "", **env_extra}
    return subprocess.run(
        [sys.executable, "manage.py", "mozaiks", "validate"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_validate_lists_every_bundle_error_and_exits_1(fixtures):
    result = _validate({"MOZAIKS_WORKFLOW_ROOTS": str(fixtures / "errors")})

    assert result.returncode == 1, result.stdout + result.stderr
    for code in ("bundle.yaml_syntax", "agents.none", "orchestrator.unknown_pattern", "tool.file_missing",
                 "tool.function_missing", "handoff.unknown_target", "orchestrator.unknown_startup_mode"):
        assert f"ERROR [{code}]" in result.stdout
    assert "handoffs.yaml:handoff_rules[0].target_agent" in result.stdout
    lines = result.stdout.splitlines()
    bundle_errors = [line for line in lines if line.startswith("ERROR") and "fixtures/errors" in line]
    assert len(bundle_errors) == 7  # one per broken bundle; Valid has none


def test_validate_with_only_warnings_lists_them_and_exits_0(fixtures):
    result = _validate({"MOZAIKS_WORKFLOW_ROOTS": str(fixtures / "warnings")})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING [tool.unknown_agent]" in result.stdout
    assert "0 error(s)" in result.stdout


def test_a_copied_workflow_folder_with_the_same_workflow_name_is_refused_naming_both_paths(settings, fixtures,
                                                                                           tmp_path):
    settings.MOZAIKS_APP_DIR = tmp_path
    settings.MOZAIKS_WORKFLOW_ROOTS = []
    # "AHelloWorld" sorts before the original, as a copy called "Copy of ..." or "A..." would.
    shutil.copytree(fixtures / "HelloWorld", tmp_path / "workflows" / "HelloWorld")
    shutil.copytree(fixtures / "HelloWorld", tmp_path / "workflows" / "AHelloWorld")

    registry = get_registry(refresh=True)

    assert registry.bundles["HelloWorld"].path.name == "HelloWorld", "the original stays available"
    [refused] = [problem for problem in registry.problems if problem.code == "workflow.duplicate_name"]
    assert refused.level == "error"
    assert refused.file.endswith("AHelloWorld/orchestrator.yaml")
    assert "HelloWorld/orchestrator.yaml" in refused.message
    assert "workflow_name: AHelloWorld" in refused.hint


def test_a_broken_bundle_is_reported_in_the_server_log(settings, fixtures, tmp_path, caplog):
    settings.MOZAIKS_APP_DIR = tmp_path
    settings.MOZAIKS_WORKFLOW_ROOTS = []
    broken = tmp_path / "workflows" / "Broken"
    shutil.copytree(fixtures / "HelloWorld", broken)
    (broken / "agents.yaml").write_text("agents: [name: : :\n")

    with caplog.at_level("ERROR", logger="mozaiks_core.runtime.bundles.registry"):
        get_registry(refresh=True)

    assert any("Broken" in record.getMessage() and "agents.yaml" in record.getMessage() for record in caplog.records)


def test_the_generated_projects_welcome_workflow_loads_without_a_warning(settings):
    settings.MOZAIKS_APP_DIR = ROOT / "mozaiks_core" / "project_template" / "app"
    settings.MOZAIKS_WORKFLOW_ROOTS = []

    registry = get_registry(refresh=True)

    assert "Welcome" in registry.bundles
    assert registry.problems == []
    assert registry.bundles["Welcome"].orchestrator.description
