"""Artifacts written to the published Mozaiks documents load unchanged; our older spellings still load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.plugins.actions import ActionFailure, run_action
from mozaiks_core.plugins.models import EventDelivery
from mozaiks_core.runtime.bundles import load_registry
from tests.plugins.conftest import NOTES_MODULE, load, write
from tests.plugins.documented import documented_workspace


@pytest.fixture
def documented(tmp_path: Path) -> tuple[Path, Path]:
    return documented_workspace(tmp_path)


def test_a_workspace_written_from_the_documents_loads_with_zero_problems(documented: tuple[Path, Path]) -> None:
    app, packs = documented
    workspace = load(app, pack_roots=[packs])
    assert workspace.problems == []
    pack = workspace.packs["notices"]
    assert (pack.status, pack.ownership, pack.pack_type, pack.implementation_mode, pack.delivery_mode) == (
        "enabled", "framework_pack", "notification_pack", "declarative_module", "app_embedded")
    assert pack.admin_sections == ("notice_overview",)
    assert pack.generation_rules == ("Reference the pack; expand only the app-specific overlay.",)
    notices = workspace.modules["notices"]
    assert notices.backend_files == ("handler.py", "service.py", "repo.py", "policy.py", "schemas.py")
    assert notices.settings == {"max_notices": {"default": 50, "description": "How many notices a user keeps."}}
    assert notices.notification_categories == ({"id": "notices.created", "label": "New notices"},)
    assert notices.admin_panels == ("notice_overview",)
    assert notices.startup_services == ("backend.service:start_digest",)
    assert {action.id: action.type for action in notices.actions.values()} == {
        "list_notices": "query", "create_notice": "mutation"}
    assert notices.ownership == "framework_pack"
    assert workspace.modules["audit_trail"].ownership == "generated_module"
    reaction = workspace.modules["audit_trail"].reactions[0]
    assert (reaction.key, reaction.on, reaction.kind, reaction.handler_method) == (
        "audit_trail.audit.on_notification_created", "domain.notices.notice_created", "handler",
        "record_notification_event")


def test_the_reference_app_json_brand_and_navigation_are_applied(documented: tuple[Path, Path]) -> None:
    app, packs = documented
    workspace = load(app, pack_roots=[packs])
    assert (workspace.app_id, workspace.app_name) == ("my-app", "My App")
    assert workspace.brand["colors"] == {
        "primary": "#06b6d4", "secondary": "#8b5cf6", "background": "#0b1220", "surface": "#0f1724",
        "border": "#1e293b", "text": "#e6eef8", "muted": "#94a3b8", "primary_contrast": "#f8fafc"}
    assert workspace.brand["fonts"]["body"] == "Rajdhani, ui-sans-serif, system-ui, sans-serif"
    assert workspace.brand["fonts"]["logo"] == "'Fagrak Inline', sans-serif"
    assert workspace.brand["font_urls"] == ["https://fonts.googleapis.com/css2?family=Rajdhani&display=swap"]
    assert workspace.brand["logo"] == "logo.svg"
    assert (workspace.landing_spot, workspace.startup_mode) == ("/notices", "ask")
    assert [(item.label, item.href) for item in workspace.navigation] == [("Notices", "/notices")]


def test_the_nested_workflow_layout_is_discovered_by_the_workspace_and_the_runtime(
        documented: tuple[Path, Path]) -> None:
    app, packs = documented
    assert [path.relative_to(app).as_posix() for path in load(app, pack_roots=[packs]).workflow_dirs] == [
        "workflows/HelloWorld/backend"]
    registry = load_registry(((app / "workflows").resolve(),))
    assert set(registry.bundles) == {"HelloWorld"}
    assert registry.problems == []


@pytest.mark.django_db(transaction=True)
def test_the_documented_reaction_fires_and_the_policy_preflight_refuses(
        documented: tuple[Path, Path], settings: Any) -> None:
    app, packs = documented
    settings.MOZAIKS_APP_DIR, settings.MOZAIKS_PACK_ROOTS = app, [str(packs)]
    owner = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    organization = ensure_personal_organization(owner)

    created = run_action("notices", "create_notice", {"title": "Hello"}, user=owner, organization=organization,
                         role="owner")

    assert created == {"title": "Hello"}
    delivery = EventDelivery.objects.get(reaction_key="audit_trail.audit.on_notification_created")
    assert delivery.status == "delivered"
    from mozaiks_modules.audit_trail.backend.handler import RECORDED

    assert RECORDED == ["Hello"]
    with pytest.raises(ActionFailure) as refused:
        run_action("notices", "create_notice", {"title": "No", "blocked": True}, user=owner,
                   organization=organization, role="owner")
    assert (refused.value.status, refused.value.code) == (403, "POLICY_DENIED")
    assert RECORDED == ["Hello"]


def _notes(root: Path) -> Path:
    return root / "modules" / "notes"


OLD_SPELLINGS: dict[str, tuple[Any, str, str, str]] = {
    "module schema key": (lambda root: write(_notes(root) / "module.yaml", {
        "schema": "mozaiks.module.v1", **{k: v for k, v in NOTES_MODULE.items() if k != "schema_version"}}),
        "modules/notes/module.yaml", "schema", "schema_version: mozaiks.module.v1"),
    "reaction on and kind": (lambda root: write(_notes(root) / "contracts" / "reactions.yaml", {"reactions": [
        {"id": "log", "on": "domain.notes.note_added", "kind": "handler", "handler_method": "on_note"}]}),
        "modules/notes/contracts/reactions.yaml", "reactions[0]", "target: {kind: handler"),
    "flat runtime extensions": (lambda root: write(_notes(root) / "runtime_extensions.yaml",
                                                   {"startup_service": "backend.handler:NotesHandler"}),
                                "modules/notes/runtime_extensions.yaml", "startup_service", "extensions: [{kind:"),
    "settings at the module root": (lambda root: write(_notes(root) / "settings.yaml",
                                                       {"settings": {"limit": {"default": 3}}}),
                                    "modules/notes/settings.yaml", "", "'contracts/settings.yaml'"),
    "notifications at the module root": (lambda root: write(_notes(root) / "notifications.yaml",
                                                            {"categories": [{"id": "n", "label": "N"}]}),
                                         "modules/notes/notifications.yaml", "", "'contracts/notifications.yaml'"),
    "admin at the module root": (lambda root: write(_notes(root) / "admin.yaml", {"models": [{"model": "Note"}]}),
                                 "modules/notes/admin.yaml", "", "'contracts/admin.yaml'"),
}


@pytest.mark.parametrize("spelling", sorted(OLD_SPELLINGS))
def test_an_older_spelling_still_loads_with_a_warning_naming_the_documented_one(workspace_dir: Path,
                                                                                 spelling: str) -> None:
    writer, file, key, documented = OLD_SPELLINGS[spelling]
    writer(workspace_dir)
    workspace = load(workspace_dir)
    assert workspace.errors() == []
    assert "notes" in workspace.modules
    warning = next(p for p in workspace.problems if p.code == "mozaiks.W005")
    assert (warning.file, warning.path) == (file, key)
    assert documented in warning.hint


def test_the_old_pack_manifest_name_still_loads_with_a_deprecation(workspace_dir: Path, tmp_path: Path) -> None:
    write(tmp_path / "packs" / "extra" / "capability_pack.yaml", {
        "schema": "mozaiks.capability_pack.v1", "capability_pack_id": "extra", "label": "Extra",
        "visibility": "public"})
    workspace = load(workspace_dir, pack_roots=[tmp_path / "packs"])
    assert "extra" in workspace.packs
    hints = {(p.file.rsplit("/", 2)[-2:][-1], p.path): p.hint for p in workspace.problems if p.code == "mozaiks.W005"}
    assert "'manifest.yaml' in the pack folder" in hints[("capability_pack.yaml", "")]
    assert "schema_version: mozaiks.capability_pack.v1" in hints[("capability_pack.yaml", "schema")]


def test_a_broken_contracts_admin_yaml_does_not_validate_clean(workspace_dir: Path) -> None:
    write(_notes(workspace_dir) / "contracts" / "admin.yaml", {"models": [{"list_display": ["text"]}]})
    workspace = load(workspace_dir)
    first = workspace.errors()[0]
    assert (first.code, first.file, first.path) == ("mozaiks.E002", "modules/notes/contracts/admin.yaml", "models[0]")
    assert "'model' is a required property" in first.message
    assert "notes" not in workspace.modules


def test_an_unknown_key_in_a_pack_manifest_is_a_warning_with_its_key_path(workspace_dir: Path,
                                                                          tmp_path: Path) -> None:
    write(tmp_path / "packs" / "extra" / "manifest.yaml", {
        "schema_version": "mozaiks.capability_pack.v1", "capability_pack_id": "extra", "label": "Extra",
        "visibility": "public", "contributes": {"modules": [], "widgets": ["x"]}})
    workspace = load(workspace_dir, pack_roots=[tmp_path / "packs"])
    warning = next(p for p in workspace.problems if p.code == "mozaiks.W004")
    assert (warning.path, warning.message) == ("contributes.widgets", "unknown key 'widgets' is ignored")
    assert "admin_sections" in warning.hint
    assert "extra" in workspace.packs


@pytest.mark.django_db
def test_the_shell_renders_the_reference_brand_and_lands_on_the_landing_spot(
        documented: tuple[Path, Path], settings: Any) -> None:
    from django.test import Client

    app, packs = documented
    settings.MOZAIKS_APP_DIR, settings.MOZAIKS_PACK_ROOTS = app, [str(packs)]
    theme = Client().get("/api/theme-config").json()
    assert theme["css_variables"]["--mz-primary"] == "#06b6d4"
    assert theme["css_variables"]["--mz-bg"] == "#0b1220"
    assert theme["css_variables"]["--mz-font"] == "Rajdhani, ui-sans-serif, system-ui, sans-serif"
    assert theme["logo_url"].endswith("/logo.svg")
    assert (theme["landing_spot"], theme["startup_mode"], theme["tagline"]) == (
        "/notices", "ask", "AI-Powered Workflows")
    assert Client().get(theme["logo_url"]).status_code == 200
    home = Client().get("/")
    assert (home.status_code, home["Location"]) == (302, "/notices")
