"""Fixture workspaces written into temporary folders, and helpers to run Django in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mozaiks_core.plugins.loader import load_workspace
from mozaiks_core.plugins.specs import Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]

NOTES_MODULE: dict[str, Any] = {
    "schema_version": "mozaiks.module.v1",
    "module": {"id": "notes", "display_name": "Notes", "version": "1.0.0", "description": "Notes.",
               "handler": "backend.handler:NotesHandler"},
    "permissions": [{"id": "notes.write", "roles": ["owner", "admin"]}],
    "actions": [
        {"id": "add_note", "type": "mutation", "handler_method": "add_note", "permissions": ["notes.write"],
         "emits": ["domain.notes.note_added"],
         "input_schema": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}},
        {"id": "list_notes", "type": "query", "handler_method": "list_notes"},
    ],
}
NOTES_EVENTS = {"events": [{"type": "domain.notes.note_added",
                            "payload_schema": {"type": "object", "required": ["text"]}}]}
NOTES_REACTIONS = {"reactions": [
    {"id": "log", "event_type": "domain.notes.note_added", "target": {"kind": "handler", "handler_method": "on_note"}},
    {"id": "tell", "event_type": "domain.notes.note_added",
     "target": {"kind": "notification", "notification": {"title": "Note: {payload.text}"}}},
]}
HANDLER = '''
class NotesHandler:
    def add_note(self, ctx, data):
        return data

    def list_notes(self, ctx, data):
        return []

    def on_note(self, ctx, envelope):
        return None
'''
PAGE = {"id": "notes", "title": "Notes", "route": "/notes", "blocks": [
    {"type": "markdown", "content": "# Notes"},
    {"type": "form", "action": {"module": "notes", "action": "add_note"}, "fields": [{"name": "text"}]},
    {"type": "table", "source": {"module": "notes", "action": "list_notes"}, "columns": [{"key": "text"}]},
]}


def write(path: Path, data: Any) -> None:
    """Write YAML or JSON (by extension), or raw text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    elif path.suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False))


def build_workspace(root: Path, packs: list[str] | None = None) -> Path:
    """A complete, valid workspace: a module with events, reactions, a page, navigation and brand."""
    write(root / "app.json", {"appId": "fixture", "appName": "Fixture", "version": "1.2.3",
                              "capability_packs": packs if packs is not None else ["notifications", "audit"]})
    module = root / "modules" / "notes"
    write(module / "module.yaml", NOTES_MODULE)
    write(module / "contracts" / "events.yaml", NOTES_EVENTS)
    write(module / "contracts" / "reactions.yaml", NOTES_REACTIONS)
    write(module / "__init__.py", "")
    write(module / "backend" / "__init__.py", "")
    write(module / "backend" / "handler.py", HANDLER)
    write(root / "ui" / "pages" / "notes.yaml", PAGE)
    write(root / "ui" / "route_manifest.json", {"routes": [{"path": "/notes", "page": "notes", "nav": True,
                                                           "label": "My notes"}]})
    write(root / "brand" / "navigation.json", {"items": [{"label": "Docs", "href": "https://example.com/docs"}]})
    write(root / "brand" / "brand.json", {"name": "Fixture", "colors": {"primary": "#112233"}, "logo": "logo.png"})
    write(root / "brand" / "assets" / "logo.png", "png")
    write(root / "config" / "shell.json", {"footer_text": "hi"})
    write(root / "workflows" / "Hello" / "orchestrator.yaml", {"workflow_name": "Hello"})
    write(root / "workflows" / "Hello" / "agents.yaml", {"agents": [{"name": "HelloAgent",
                                                                   "system_message": "Greet the user."}]})
    return root


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    """A fresh valid fixture workspace for one test to modify."""
    return build_workspace(tmp_path / "app")


def load(root: Path, **options: Any) -> Workspace:
    """Load a fixture workspace the way settings.py does."""
    return load_workspace(root, reserved_labels={"admin", "auth", "sessions"}, **options)


def run_django(args: list[str], env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` in the checkout with a clean MOZAIKS_* environment plus ``env``."""
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("MOZAIKS_", "PYTEST_", "DATABASE_URL", "REDIS_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "mozaiks_core.settings", "MOZAIKS_VAR_DIR": env.pop("VAR", "/tmp")})
    base.update(env)
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=base, capture_output=True, text=True,
                          timeout=timeout)
