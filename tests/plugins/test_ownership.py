"""Ownership classes and the build-policy rules of the capability-pack model, each a check with an id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.plugins.conftest import NOTES_MODULE, load, write


def pack(root: Path, pack_id: str, **fields: Any) -> None:
    write(root / pack_id / "manifest.yaml", {"schema_version": "mozaiks.capability_pack.v1",
                                             "capability_pack_id": pack_id, "label": pack_id.title(), **fields})


def select(workspace_dir: Path, *packs: str) -> None:
    write(workspace_dir / "app.json", {"appId": "f", "appName": "F", "capability_packs": ["notifications", *packs]})


def test_every_module_and_pack_has_an_ownership_class_declared_or_derived(workspace_dir: Path, tmp_path: Path) -> None:
    pack(tmp_path / "packs", "insights", visibility="licensed", requires={"licensed_services": ["insights"]})
    pack(tmp_path / "packs", "webhooks", visibility="public", implementation_mode="external_integration")
    select(workspace_dir, "insights", "webhooks")
    workspace = load(workspace_dir, pack_roots=[tmp_path / "packs"], licensed_services=["insights"])
    assert {pack_id: spec.ownership for pack_id, spec in workspace.packs.items()} == {
        "audit": "framework_pack", "notifications": "framework_pack", "settings": "framework_pack",
        "insights": "hosted_pack",
        "webhooks": "external_adapter"}
    assert {module_id: spec.ownership for module_id, spec in workspace.modules.items()} == {
        "notes": "generated_module", "notifications": "framework_pack"}


def test_a_host_universal_capability_built_as_a_module_is_refused(workspace_dir: Path) -> None:
    bare = {"schema_version": "mozaiks.module.v1", "module": {"version": "1.0.0"}}
    write(workspace_dir / "modules" / "user_management" / "module.yaml",
          {**bare, "module": {**bare["module"], "id": "user_management"}})
    write(workspace_dir / "modules" / "profiles" / "module.yaml",
          {**bare, "module": {**bare["module"], "id": "profiles", "capability_source": "host_universal"}})
    workspace = load(workspace_dir)
    assert sorted((p.code, p.file) for p in workspace.errors()) == [
        ("mozaiks.E020", "modules/profiles/module.yaml"), ("mozaiks.E020", "modules/user_management/module.yaml")]
    assert "must never be built as a module" in workspace.errors()[0].message
    assert {"user_management", "profiles"}.isdisjoint(workspace.modules)


def test_a_framework_pack_regenerated_as_an_app_module_is_refused(workspace_dir: Path) -> None:
    write(workspace_dir / "modules" / "notes" / "module.yaml",
          {**NOTES_MODULE, "module": {**NOTES_MODULE["module"], "capability_source": "framework_pack"}})
    problem = next(p for p in load(workspace_dir).errors() if p.code == "mozaiks.E023")
    assert (problem.file, problem.path) == ("modules/notes/module.yaml", "module.capability_source")
    assert "selected, not regenerated" in problem.message


def test_an_oss_build_refuses_a_hosted_pack_unless_its_licensed_services_are_licensed(
        workspace_dir: Path, tmp_path: Path) -> None:
    pack(tmp_path / "packs", "search", visibility="public", delivery_mode="hosted_service")
    select(workspace_dir, "search")
    oss = load(workspace_dir, pack_roots=[tmp_path / "packs"], host_mode="oss")
    problem = next(p for p in oss.errors() if p.code == "mozaiks.E021")
    assert (problem.file, problem.path) == ("app.json", "capability_packs[1]")
    assert "an OSS build (host_mode: oss) may not include it" in problem.message
    assert oss.packs["search"].status == "refused"
    hosted = load(workspace_dir, pack_roots=[tmp_path / "packs"], host_mode="hosted")
    assert hosted.packs["search"].status == "enabled"


def test_a_pack_requiring_an_unconfigured_connector_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    pack(tmp_path / "packs", "crm", visibility="public", requires={"connectors": ["hubspot"]})
    select(workspace_dir, "crm")
    refused = load(workspace_dir, pack_roots=[tmp_path / "packs"])
    problem = next(p for p in refused.errors() if p.code == "mozaiks.E012")
    assert "requires the connector(s) hubspot, which MOZAIKS_CONNECTORS does not list" in problem.message
    assert load(workspace_dir, pack_roots=[tmp_path / "packs"], connectors=["hubspot"]).packs["crm"].enabled


def test_a_superseded_pack_is_not_enabled_beside_the_pack_that_replaces_it(workspace_dir: Path,
                                                                           tmp_path: Path) -> None:
    pack(tmp_path / "packs", "inbox", visibility="public")
    pack(tmp_path / "packs", "inbox_plus", visibility="public", supersedes=["inbox"])
    select(workspace_dir, "inbox", "inbox_plus")
    workspace = load(workspace_dir, pack_roots=[tmp_path / "packs"])
    assert (workspace.packs["inbox"].status, workspace.packs["inbox_plus"].status) == ("superseded", "enabled")
    warning = next(p for p in workspace.problems if p.code == "mozaiks.W006")
    assert "superseded by 'inbox_plus'" in warning.message


def test_an_admin_section_no_module_declares_is_an_error(workspace_dir: Path, tmp_path: Path) -> None:
    pack(tmp_path / "packs", "reports", visibility="public", contributes={"admin_sections": ["report_queue"]})
    select(workspace_dir, "reports")
    problem = next(p for p in load(workspace_dir, pack_roots=[tmp_path / "packs"]).errors()
                   if p.code == "mozaiks.E013")
    assert problem.path == "contributes.admin_sections[0]"
    assert "add a panel with id 'report_queue'" in problem.hint


def test_a_page_bound_to_a_hosted_pack_module_instead_of_its_facade_is_refused(workspace_dir: Path,
                                                                               tmp_path: Path) -> None:
    root = tmp_path / "packs"
    pack(root, "metrics", visibility="licensed", requires={"licensed_services": ["metrics"]},
         contributes={"modules": ["metrics_engine"]})
    engine = root / "metrics" / "modules" / "metrics_engine"
    write(engine / "module.yaml", {**NOTES_MODULE, "module": {**NOTES_MODULE["module"], "id": "metrics_engine"},
                                   "permissions": [], "actions": [NOTES_MODULE["actions"][1]]})
    write(engine / "backend" / "handler.py", "class NotesHandler:\n    def list_notes(self, ctx, data):\n"
                                             "        return []\n")
    write(workspace_dir / "ui" / "pages" / "metrics.yaml", {"id": "metrics", "title": "M", "route": "/metrics",
                                                           "blocks": [{"type": "table", "source": {
                                                               "module": "metrics_engine", "action": "list_notes"},
                                                               "columns": [{"key": "a"}]}]})
    select(workspace_dir, "metrics")
    workspace = load(workspace_dir, pack_roots=[root], licensed_services=["metrics"])
    problem = next(p for p in workspace.errors() if p.code == "mozaiks.E022")
    assert (problem.file, problem.path) == ("ui/pages/metrics.yaml", "blocks[0].source")
    assert "pages must call an app-owned facade module" in problem.message
    assert "/metrics" not in workspace.routes


def test_a_capability_declares_its_ownership_class_and_a_wrong_one_is_refused() -> None:
    from mozaiks_core.entitlements.capabilities import parse_capabilities_text

    specs, problems = parse_capabilities_text(
        "capabilities:\n  - {id: search, workflow: Search, capability_source: hosted_pack}\n"
        "  - {id: chat, workflow: Chat}\n  - {id: bad, workflow: Bad, capability_source: homemade}\n",
        "config/capabilities.yaml")
    assert [(spec.capability_id, spec.ownership) for spec in specs] == [
        ("search", "hosted_pack"), ("chat", "generated_module")]
    assert [(p.path, p.message) for p in problems] == [
        ("capabilities[2].capability_source", "capability_source 'homemade' is not an ownership class")]
