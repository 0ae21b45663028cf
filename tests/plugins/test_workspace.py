"""The workspace loader: a complete fixture loads; each kind of defect is reported precisely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.plugins.conftest import NOTES_MODULE, load, write


def codes(workspace: object) -> list[tuple[str, str, str]]:
    return [(problem.code, problem.file, problem.path) for problem in workspace.problems]  # type: ignore[attr-defined]


def test_a_complete_workspace_loads_every_part_without_problems(workspace_dir: Path) -> None:
    workspace = load(workspace_dir)
    assert workspace.problems == []
    assert (workspace.app_id, workspace.app_name, workspace.version) == ("fixture", "Fixture", "1.2.3")
    assert set(workspace.modules) == {"notes", "notifications", "audit"}
    notes = workspace.modules["notes"]
    assert notes.import_name == "mozaiks_modules.notes"
    assert workspace.modules["audit"].import_name == "mozaiks_core.packs.audit"
    assert set(notes.actions) == {"add_note", "list_notes"}
    assert notes.actions["add_note"].permissions == ("notes.write",)
    assert [reaction.key for reaction in workspace.reactions()] == ["notes.log", "notes.tell", "audit.record"]
    assert workspace.routes["/notes"] == "notes"
    assert [(item.label, item.href) for item in workspace.navigation] == [
        ("Docs", "https://example.com/docs"), ("My notes", "/notes")]
    assert workspace.brand["logo"] == "logo.png"
    assert workspace.shell == {"footer_text": "hi"}
    assert [path.name for path in workspace.workflow_dirs] == ["Hello"]
    assert workspace.packs["notifications"].status == "enabled"


def _module_yaml(root: Path) -> Path:
    return root / "modules" / "notes" / "module.yaml"


BROKEN: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    "broken YAML": (lambda root: write(_module_yaml(root), "schema: [unclosed\n"), "mozaiks.E001",
                    "modules/notes/module.yaml", "line 2 column 1"),
    "broken JSON": (lambda root: write(root / "app.json", '{"appId": "x",}'), "mozaiks.E001", "app.json",
                    "line 1 column 15"),
    "unknown key in a module": (lambda root: write(_module_yaml(root), {**NOTES_MODULE, "colour": "red"}),
                                "mozaiks.W004", "modules/notes/module.yaml", "colour"),
    "unknown key in an action": (
        lambda root: write(_module_yaml(root), {**NOTES_MODULE, "actions": [
            {**NOTES_MODULE["actions"][1], "verb": "GET"}]}),
        "mozaiks.W004", "modules/notes/module.yaml", "actions[0].verb"),
    "wrong action type": (
        lambda root: write(_module_yaml(root), {**NOTES_MODULE, "actions": [
            {**NOTES_MODULE["actions"][1], "type": "command"}]}),
        "mozaiks.E002", "modules/notes/module.yaml", "actions[0].type"),
    "invalid input schema": (
        lambda root: write(_module_yaml(root), {**NOTES_MODULE, "actions": [
            {**NOTES_MODULE["actions"][1], "input_schema": {"type": "banana"}}]}),
        "mozaiks.E002", "modules/notes/module.yaml", "actions[0].input_schema.type"),
    "id not matching the folder": (
        lambda root: write(_module_yaml(root), {**NOTES_MODULE, "module": {**NOTES_MODULE["module"], "id": "memo"}}),
        "mozaiks.E003", "modules/notes/module.yaml", "module.id"),
    "unknown permission": (
        lambda root: write(_module_yaml(root), {**NOTES_MODULE, "permissions": []}),
        "mozaiks.E010", "modules/notes/module.yaml", "actions[0].permissions[0]"),
    "undeclared emitted event": (
        lambda root: write(root / "modules/notes/contracts/events.yaml", {"events": []}),
        "mozaiks.E007", "modules/notes/module.yaml", "actions[0].emits"),
    "event of another module": (
        lambda root: write(root / "modules/notes/contracts/events.yaml",
                           {"events": [{"type": "domain.notes.note_added"}, {"type": "domain.tasks.stolen"}]}),
        "mozaiks.E007", "modules/notes/contracts/events.yaml", "events[1].type"),
    "reaction to an unknown event": (
        lambda root: write(root / "modules/notes/contracts/reactions.yaml", {"reactions": [
            {"id": "log", "event_type": "domain.notes.nothing",
             "target": {"kind": "handler", "handler_method": "on_note"}}]}),
        "mozaiks.E006", "modules/notes/contracts/reactions.yaml", "reactions[0].on"),
    "handler reaction without a method": (
        lambda root: write(root / "modules/notes/contracts/reactions.yaml", {"reactions": [
            {"id": "log", "event_type": "domain.notes.note_added", "target": {"kind": "handler"}}]}),
        "mozaiks.E002", "modules/notes/contracts/reactions.yaml", "reactions[0].target"),
    "python syntax error": (
        lambda root: write(root / "modules/notes/backend/handler.py", "class Broken(:\n"),
        "mozaiks.E005", "modules/notes/backend/handler.py", "line 1"),
    "page naming an unknown action": (
        lambda root: write(root / "ui/pages/notes.yaml", {"id": "notes", "title": "N", "route": "/notes", "blocks": [
            {"type": "table", "source": {"module": "notes", "action": "nope"}, "columns": [{"key": "a"}]}]}),
        "mozaiks.E009", "ui/pages/notes.yaml", "blocks[0].source"),
    "form posting to a query": (
        lambda root: write(root / "ui/pages/notes.yaml", {"id": "notes", "title": "N", "route": "/notes", "blocks": [
            {"type": "form", "action": {"module": "notes", "action": "list_notes"}, "fields": [{"name": "a"}]}]}),
        "mozaiks.E009", "ui/pages/notes.yaml", "blocks[0].action"),
    "page with an unknown block": (
        lambda root: write(root / "ui/pages/notes.yaml", {"id": "notes", "title": "N", "route": "/notes",
                                                          "blocks": [{"type": "carousel"}]}),
        "mozaiks.E002", "ui/pages/notes.yaml", "blocks[0].type"),
    "page on a framework route": (
        lambda root: write(root / "ui/pages/notes.yaml", {"id": "notes", "title": "N", "route": "/admin/notes",
                                                          "blocks": []}),
        "mozaiks.E009", "ui/pages/notes.yaml", "route"),
    "unknown capability pack": (
        lambda root: write(root / "app.json", {"appId": "f", "appName": "F", "version": "1",
                                               "capability_packs": ["notifications", "teleport"]}),
        "mozaiks.E008", "app.json", "capability_packs[1]"),
    "navigation to a missing route": (
        lambda root: write(root / "brand/navigation.json", {"items": [{"label": "Gone", "route": "/gone"}]}),
        "mozaiks.W001", "brand/navigation.json", "items[0].route"),
    "missing logo": (lambda root: (root / "brand/assets/logo.png").unlink(), "mozaiks.W003", "brand/brand.json",
                     "logo"),
}


@pytest.mark.parametrize("defect", sorted(BROKEN))
def test_each_kind_of_defect_is_reported_with_its_check_id_file_and_key_path(workspace_dir: Path, defect: str) -> None:
    breaker, code, file, key = BROKEN[defect]
    breaker(workspace_dir)
    problems = codes(load(workspace_dir))
    assert (code, file, key) in problems, problems


def test_a_module_id_colliding_with_a_framework_app_is_refused_and_the_others_still_load(workspace_dir: Path) -> None:
    clash = workspace_dir / "modules" / "sessions"
    write(clash / "module.yaml", {**NOTES_MODULE, "module": {**NOTES_MODULE["module"], "id": "sessions"}})
    workspace = load(workspace_dir)
    problem = next(p for p in workspace.problems if p.code == "mozaiks.E004")
    assert problem.file == "modules/sessions/module.yaml"
    assert "collides with the installed Django app label 'sessions'" in problem.message
    assert "sessions" not in workspace.modules
    assert "notes" in workspace.modules


def test_one_broken_module_never_takes_the_others_down(workspace_dir: Path) -> None:
    write(workspace_dir / "modules" / "broken" / "module.yaml", "module: {id: [\n")
    workspace = load(workspace_dir)
    assert "notes" in workspace.modules
    assert "broken" in workspace.failed_modules
    assert [p.code for p in workspace.errors()] == ["mozaiks.E001"]


def test_a_licensed_pack_is_refused_without_its_licensed_service_and_enabled_with_it(workspace_dir: Path,
                                                                                       tmp_path: Path) -> None:
    root = tmp_path / "packs"
    write(root / "insights" / "capability_pack.yaml", {
        "schema_version": "mozaiks.capability_pack.v1", "capability_pack_id": "insights", "label": "Insights",
        "visibility": "licensed", "requires": {"licensed_services": ["insights-api"]},
        "contributes": {"pages": ["insights"]}})
    write(root / "insights" / "pages" / "insights.yaml",
          {"id": "insights", "title": "Insights", "route": "/insights",
           "blocks": [{"type": "markdown", "content": "x"}]})
    write(workspace_dir / "app.json", {"appId": "f", "appName": "F", "version": "1", "capability_packs": ["insights"]})

    refused = load(workspace_dir, pack_roots=[root])
    problem = next(p for p in refused.problems if p.code == "mozaiks.E008")
    assert problem.path == "capability_packs[0]"
    assert "requires the licensed service(s) insights-api" in problem.message
    assert "MOZAIKS_LICENSED_SERVICES" in problem.message
    assert refused.packs["insights"].status == "refused"
    assert "/insights" not in refused.routes

    licensed = load(workspace_dir, pack_roots=[root], licensed_services=["insights-api"])
    assert licensed.packs["insights"].status == "enabled"
    assert licensed.routes["/insights"] == "insights"


def test_a_reaction_on_the_yaml_key_on_is_read_as_a_string_not_a_boolean(workspace_dir: Path) -> None:
    write(workspace_dir / "modules/notes/contracts/reactions.yaml",
          "reactions:\n  - id: log\n    on: domain.notes.note_added\n    kind: handler\n    handler_method: on_note\n")
    assert load(workspace_dir).modules["notes"].reactions[0].on == "domain.notes.note_added"


def test_a_pack_contributes_its_listed_workflows_and_must_declare_its_events(workspace_dir: Path,
                                                                              tmp_path: Path) -> None:
    root = tmp_path / "packs"
    write(root / "helpdesk" / "capability_pack.yaml", {
        "schema_version": "mozaiks.capability_pack.v1", "capability_pack_id": "helpdesk", "label": "Helpdesk",
        "visibility": "public", "contributes": {"workflows": ["Triage", "Missing"], "events": ["domain.notes.gone"]}})
    write(root / "helpdesk" / "workflows" / "Triage" / "orchestrator.yaml", {"workflow_name": "Triage"})
    write(workspace_dir / "app.json", {"appId": "f", "appName": "F", "version": "1",
                                       "capability_packs": ["notifications", "helpdesk"]})
    workspace = load(workspace_dir, pack_roots=[root])
    assert [path.name for path in workspace.workflow_dirs] == ["Hello", "Triage"]
    assert [(p.code, p.path) for p in workspace.errors()] == [
        ("mozaiks.E008", "contributes.workflows[1]"), ("mozaiks.E008", "contributes.events[0]")]
