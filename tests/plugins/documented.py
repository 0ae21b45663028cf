"""A workspace written exactly from the published Mozaiks documents' examples (our own files, their shapes).

- a capability pack ``manifest.yaml`` in the documented v1 shape (every field of both tables);
- a generated module with the whole backend layout and every ``contracts/`` file;
- the documented audit reaction (``event_type`` + ``target``) and runtime extension (``extensions[]``);
- the reference app's ``app.json`` (no version), ``brand/public/brand.json`` (nested colours and
  fonts) and ``navigation.json``; a workflow in the nested ``workflows/<name>/backend/`` layout.
"""

from __future__ import annotations

from pathlib import Path

from tests.plugins.conftest import write

PACK_MANIFEST = {
    "schema_version": "mozaiks.capability_pack.v1",
    "capability_pack_id": "notices",
    "label": "Notices",
    "summary": "In-app notice records, delivery preferences, and event-driven delivery hooks.",
    "visibility": "public",
    "pack_type": "notification_pack",
    "implementation_mode": "declarative_module",
    "delivery_mode": "app_embedded",
    "requires": {"licensed_services": [], "connectors": []},
    "contributes": {"modules": ["notices"], "pages": ["notices"], "admin_sections": ["notice_overview"],
                    "workflows": [], "events": ["domain.notices.notice_created"]},
    "hard_constraints": ["Keep handler.py thin.", "Publish only declared domain events."],
    "capability_source": "framework_pack",
    "surfaces": [{"id": "notices_page", "label": "Notices", "status": "active", "route": "/notices"}],
    "supported_domains": ["saas", "community"],
    "branding": {"display_name": "Notices", "icon": "bell"},
    "generation_rules": ["Reference the pack; expand only the app-specific overlay."],
    "supersedes": [],
}

NOTICES_MODULE = {
    "schema_version": "mozaiks.module.v1",
    "module": {"id": "notices", "display_name": "Notices", "version": "1.0.0", "description": "Notice records.",
               "owner": "mozaiks", "visibility": "internal", "handler": "backend.handler:NoticesHandler"},
    "permissions": [{"id": "notices.read", "description": "Read notices."},
                    {"id": "notices.manage", "description": "Create notices."}],
    "actions": [
        {"id": "list_notices", "description": "List notices.", "handler_method": "list_notices",
         "input_schema": {"type": "object", "properties": {"limit": {"type": "integer"}}},
         "output_schema": {"type": "object", "required": ["items", "count"]}, "permissions": ["notices.read"]},
        {"id": "create_notice", "description": "Create a notice.", "handler_method": "create_notice",
         "input_schema": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"},
                                                                                    "blocked": {"type": "boolean"}}},
         "output_schema": {"type": "object"}, "permissions": ["notices.manage"],
         "emits": ["domain.notices.notice_created"]},
    ],
    "capabilities": [{"capability_id": "notices.create"}],
}
FILES = {
    "contracts/events.yaml": {"schema_version": "mozaiks.events.v1", "events": [
        {"type": "domain.notices.notice_created", "version": 1, "producer": "notices",
         "payload_schema": {"type": "object", "required": ["title"]}}]},
    "contracts/reactions.yaml": {"schema_version": "mozaiks.reactions.v1", "reactions": []},
    "contracts/notifications.yaml": {"categories": [{"id": "notices.created", "label": "New notices"}]},
    "contracts/settings.yaml": {"schema_version": "mozaiks.settings.v1", "settings": [
        {"id": "max_notices", "default": 50, "description": "How many notices a user keeps."}]},
    "contracts/admin.yaml": {"schema_version": "mozaiks.admin.v2", "panels": [
        {"id": "notice_overview", "title": "Notice overview"}]},
    "runtime_extensions.yaml": {"schema_version": "mozaiks.runtime_extensions.v1", "extensions": [
        {"kind": "startup_service", "entrypoint": "backend.service:start_digest"}]},
    "backend/__init__.py": "",
    "backend/handler.py": '''from .policy import can_create
from .service import create_notice, list_notices


class NoticesHandler:
    """Thin dispatch to service.py."""

    def list_notices(self, ctx, data):
        return list_notices(data.get("limit", 20))

    def create_notice(self, ctx, data):
        can_create(data)
        return create_notice(ctx, data["title"])
''',
    "backend/service.py": '''from . import repo
from .schemas import Notice


def start_digest():
    repo.STARTED.append(True)


def list_notices(limit):
    items = repo.NOTICES[:limit]
    return {"items": items, "count": len(items)}


def create_notice(ctx, title):
    notice = Notice(title=title)
    repo.NOTICES.append(notice.as_dict())
    ctx.publish("domain.notices.notice_created", notice.as_dict())
    return notice.as_dict()
''',
    "backend/repo.py": "NOTICES = []\nSTARTED = []\n",
    "backend/policy.py": '''from mozaiks_core.plugins.context import ModuleActionError


def can_create(data):
    return True


def preflight(ctx, action_id, data):
    if data.get("blocked"):
        raise ModuleActionError("POLICY_DENIED", "this notice is blocked by the module's policy", status=403)
''',
    "backend/schemas.py": '''from dataclasses import asdict, dataclass


@dataclass
class Notice:
    title: str

    def as_dict(self):
        return asdict(self)
''',
}
AUDIT_MODULE = {
    "schema_version": "mozaiks.module.v1",
    "module": {"id": "audit_trail", "display_name": "Audit trail", "version": "1.0.0",
               "handler": "backend.handler:AuditTrailHandler"},
}
AUDIT_REACTIONS = {"reactions": [{
    "id": "audit.on_notification_created", "event_type": "domain.notices.notice_created",
    "target": {"kind": "handler", "handler_method": "record_notification_event"}}]}
AUDIT_HANDLER = '''RECORDED = []


class AuditTrailHandler:
    def record_notification_event(self, ctx, envelope):
        RECORDED.append(envelope["payload"]["title"])
'''
REFERENCE_APP_JSON = {"appName": "My App", "appId": "my-app", "apiUrl": "http://localhost:8000",
                      "wsUrl": "ws://localhost:8000"}
REFERENCE_BRAND = {
    "name": "Reference", "tagline": "AI-Powered Workflows",
    "assets": {"logo": "logo.svg", "wordmark": "wordmark.png", "favicon": "logo.svg",
               "backgroundImage": "bg.png"},
    "fonts": {"body": {"family": "Rajdhani", "fallbacks": "ui-sans-serif, system-ui, sans-serif",
                       "googleFont": "https://fonts.googleapis.com/css2?family=Rajdhani&display=swap",
                       "tailwindClass": "font-sans"},
              "heading": {"family": "Orbitron", "fallbacks": "Rajdhani, sans-serif", "tailwindClass": "font-heading"},
              "logo": {"family": "Fagrak Inline", "fallbacks": "sans-serif", "localFont": True,
                       "src": "/fonts/Fagrak Inline.otf", "tailwindClass": "font-logo"}},
    "colors": {"primary": {"main": "#06b6d4", "light": "#67e8f9", "dark": "#0e7490", "name": "cyan"},
               "secondary": {"main": "#8b5cf6", "light": "#a78bfa", "dark": "#6d28d9", "name": "violet"},
               "background": {"base": "#0b1220", "surface": "#0f1724", "elevated": "#131d33",
                              "overlay": "rgba(13, 23, 42, 0.72)"},
               "border": {"subtle": "#1e293b", "strong": "#334155", "accent": "#06b6d4"},
               "text": {"primary": "#e6eef8", "secondary": "#94a3b8", "muted": "#64748b", "onAccent": "#f8fafc"}},
    "shadows": {"primary": "0 20px 45px rgba(6, 182, 212, 0.24)"},
}
REFERENCE_NAVIGATION = {"version": "1.0.0", "landing_spot": "/notices", "startup_mode": "ask",
                        "pages": [{"label": "Notices", "path": "/notices"}]}


def documented_workspace(root: Path) -> tuple[Path, Path]:
    """Write the workspace (``root/app``) and its pack root (``root/packs``); returns both."""
    app, packs = root / "app", root / "packs"
    pack = packs / "notices"
    write(pack / "manifest.yaml", PACK_MANIFEST)
    module = pack / "modules" / "notices"
    write(module / "module.yaml", NOTICES_MODULE)
    for name, data in FILES.items():
        write(module / name, data)
    write(pack / "pages" / "notices.yaml", {"id": "notices", "title": "Notices", "route": "/notices", "blocks": [
        {"type": "table", "source": {"module": "notices", "action": "list_notices"}, "columns": [{"key": "title"}]},
        {"type": "form", "action": {"module": "notices", "action": "create_notice"}, "fields": [{"name": "title"}]}]})
    write(app / "app.json", {**REFERENCE_APP_JSON, "capability_packs": ["notices"]})
    audit = app / "modules" / "audit_trail"
    write(audit / "module.yaml", AUDIT_MODULE)
    write(audit / "contracts" / "reactions.yaml", AUDIT_REACTIONS)
    write(audit / "backend" / "__init__.py", "")
    write(audit / "backend" / "handler.py", AUDIT_HANDLER)
    write(app / "brand" / "public" / "brand.json", REFERENCE_BRAND)
    write(app / "brand" / "public" / "navigation.json", REFERENCE_NAVIGATION)
    write(app / "brand" / "public" / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    nested = app / "workflows" / "HelloWorld" / "backend"
    write(nested / "orchestrator.yaml", {"workflow_name": "HelloWorld", "initial_agent": "HelloAgent",
                                         "orchestration_pattern": "DefaultPattern", "max_turns": 2})
    write(nested / "agents.yaml", {"agents": [{"name": "HelloAgent", "system_message": "Say hello."}]})
    write(nested / "handoffs.yaml", {"handoff_rules": [{"source_agent": "HelloAgent", "target_agent": "terminate",
                                                        "handoff_type": "after_work"}]})
    write(nested / "scripted_model.yaml", {"turns": [{"agent": "HelloAgent", "say": "Hello, world!"}]})
    return app, packs
