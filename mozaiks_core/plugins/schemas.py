"""JSON Schemas of every workspace manifest: modules, contracts, packs, pages, brand and shell.

The shapes are the ones of the published Mozaiks documents (the module contract, the
capability-pack model, the app-workspace contract). Strict manifests list every known key:
an unknown key is reported as a warning with its key path (``mozaiks.W004``), never silently
ignored, and a wrong value is an error. Older spellings of ours are rewritten to these shapes
by :mod:`mozaiks_core.plugins.spellings` first, with a deprecation warning. Everything is plain
data so the loader can run before Django.
"""

from __future__ import annotations

from typing import Any

MODULE_SCHEMA_ID = "mozaiks.module.v1"
PACK_SCHEMA_ID = "mozaiks.capability_pack.v1"
RUNTIME_EXTENSIONS_SCHEMA_ID = "mozaiks.runtime_extensions.v1"

OWNERSHIP_CLASSES = ("host_universal", "framework_pack", "hosted_pack", "generated_module", "external_adapter")
OWNERSHIP = {"enum": list(OWNERSHIP_CLASSES)}
SCHEMA_VERSION = {"type": "string", "pattern": r"^mozaiks\.[a-z_]+\.v[0-9]+$"}

IDENTIFIER = {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,48}$"}
EVENT_TYPE = {"type": "string", "pattern": r"^domain\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"}
ROLES = {"type": "array", "items": {"enum": ["owner", "admin", "member"]}, "uniqueItems": True}
JSON_SCHEMA = {"type": "object"}

MODULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "module"],
    "properties": {
        "schema_version": {"const": MODULE_SCHEMA_ID},
        "module": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "version"],
            "properties": {
                "id": IDENTIFIER,
                "display_name": {"type": "string", "minLength": 1},
                "version": {"type": ["string", "number"]},
                "description": {"type": "string"},
                "handler": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
                "owner": {"type": "string"},
                "visibility": {"enum": ["public", "internal", "licensed", "private"]},
                "capability_source": OWNERSHIP,
            },
        },
        "capabilities": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["capability_id"],
                "properties": {"capability_id": {"type": "string", "minLength": 1}, "label": {"type": "string"},
                               "description": {"type": "string"}, "capability_source": OWNERSHIP},
            },
        },
        "permissions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {"id": {"type": "string", "minLength": 1}, "description": {"type": "string"},
                               "roles": ROLES},
            },
        },
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "handler_method"],
                "properties": {
                    "id": IDENTIFIER,
                    "description": {"type": "string"},
                    "handler_method": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
                    "type": {"enum": ["query", "mutation"]},
                    "input_schema": JSON_SCHEMA,
                    "output_schema": JSON_SCHEMA,
                    "permissions": {"type": "array", "items": {"type": "string"}},
                    "emits": {"type": "array", "items": EVENT_TYPE},
                    "entitlement_gate": {"type": ["string", "null"]},
                    "counted_limit": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["key", "model"],
                        "properties": {"key": {"type": "string", "pattern": r"^[a-z][a-z0-9_.:-]{0,79}$"},
                                       "model": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
                                       "organization_field": {"type": "string", "pattern": r"^[a-z_]\w*$"},
                                       "where": {"type": "object"}},
                    },
                    "auth": {"enum": ["required", "public"]},
                },
            },
        },
    },
}

EVENTS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["events"],
    "properties": {
        "schema_version": {"const": "mozaiks.events.v1"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {"type": EVENT_TYPE, "description": {"type": "string"},
                               "payload_schema": JSON_SCHEMA, "version": {"type": "integer", "minimum": 1},
                               "producer": {"type": "string"}},
            },
        }
    },
}

NOTIFICATION_TEMPLATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {
        "category": {"type": "string"},
        "title": {"type": "string", "minLength": 1},
        "body": {"type": "string"},
        "link": {"type": "string"},
        "recipients": {"enum": ["actor", "organization", "organization_admins"]},
    },
}

REACTION_TARGET = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["handler", "notification", "workflow"]},
        "handler_method": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
        "notification": NOTIFICATION_TEMPLATE,
        "capability_id": {"type": "string", "minLength": 1},
        "message": {"type": "string"},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "handler"}}}, "then": {"required": ["handler_method"]}},
        {"if": {"properties": {"kind": {"const": "notification"}}}, "then": {"required": ["notification"]}},
        {"if": {"properties": {"kind": {"const": "workflow"}}}, "then": {"required": ["capability_id"]}},
    ],
}

REACTIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reactions"],
    "properties": {
        "schema_version": {"const": "mozaiks.reactions.v1"},
        "reactions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "event_type", "target"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_.]{1,80}$"},
                    "event_type": {"type": "string", "pattern": r"^domain\.[a-z0-9_.*]+$"},
                    "target": REACTION_TARGET,
                    "description": {"type": "string"},
                    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                },
            },
        }
    },
}

SETTING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"default": {}, "description": {"type": "string"}, "required": {"type": "boolean"},
                   "label": {"type": "string"}, "type": {"enum": ["string", "integer", "number", "boolean"]},
                   "scope": {"enum": ["deployment", "organization", "user"]}},
}
MODULE_SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["settings"],
    "properties": {
        "schema_version": {"const": "mozaiks.settings.v1"},
        "settings": {
            "oneOf": [
                {"type": "object", "additionalProperties": SETTING},
                {"type": "array", "items": {**SETTING, "required": ["id"],
                                            "properties": {**SETTING["properties"], "id": IDENTIFIER}}},
            ],
        },
    },
}

NOTIFICATIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["categories"],
    "properties": {
        "schema_version": {"const": "mozaiks.notifications.v1"},
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "label"],
                "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                               "description": {"type": "string"}, "default_enabled": {"type": "boolean"}},
            },
        }
    },
}

ADMIN_MODEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["model"],
    "properties": {
        "model": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
        "list_display": {"type": "array", "items": {"type": "string"}},
        "list_filter": {"type": "array", "items": {"type": "string"}},
        "search_fields": {"type": "array", "items": {"type": "string"}},
    },
}
ADMIN = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["models"]}, {"required": ["panels"]}],
    "properties": {
        "schema_version": {"enum": ["mozaiks.admin.v1", "mozaiks.admin.v2"]},
        "models": {"type": "array", "items": ADMIN_MODEL},
        "panels": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {**ADMIN_MODEL["properties"], "id": IDENTIFIER, "title": {"type": "string"},
                               "description": {"type": "string"}},
            },
        },
    },
}

DOTTED_CALLABLE = {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"}
RUNTIME_EXTENSIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "extensions"],
    "properties": {
        "schema_version": {"const": RUNTIME_EXTENSIONS_SCHEMA_ID},
        "extensions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "entrypoint"],
                "properties": {"kind": {"enum": ["startup_service", "api_router"]}, "entrypoint": DOTTED_CALLABLE,
                               "id": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
}

STRINGS = {"type": "array", "items": {"type": "string"}}
PACK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "capability_pack_id", "label", "visibility"],
    "properties": {
        "schema_version": {"const": PACK_SCHEMA_ID},
        "capability_pack_id": IDENTIFIER,
        "label": {"type": "string", "minLength": 1},
        "summary": {"type": "string"},
        "version": {"type": ["string", "number"]},
        "description": {"type": "string"},
        "visibility": {"enum": ["public", "licensed", "private"]},
        "pack_type": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "implementation_mode": {"enum": ["declarative_module", "agentic_workflow", "hybrid", "external_integration"]},
        "delivery_mode": {"enum": ["app_embedded", "hosted_service", "external_service"]},
        "requires": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"licensed_services": STRINGS, "connectors": STRINGS},
        },
        "contributes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: STRINGS for key in ("modules", "pages", "admin_sections", "workflows", "events")},
        },
        "hard_constraints": STRINGS,
        "capability_source": OWNERSHIP,
        "surfaces": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {"id": {"type": "string", "minLength": 1}, "label": {"type": "string"},
                               "kind": {"type": "string"}, "status": {"enum": ["active", "planned", "placeholder"]},
                               "route": {"type": "string", "pattern": "^/"}, "api": {"type": "string"}},
            },
        },
        "supported_domains": STRINGS,
        "branding": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"display_name": {"type": "string"}, "icon": {"type": "string"},
                           "color": {"type": "string"}, "tagline": {"type": "string"}},
        },
        "generation_rules": STRINGS,
        "supersedes": {"type": "array", "items": IDENTIFIER},
        "adapter_template": {"type": "string", "pattern": r"^[A-Za-z0-9_./-]+\.py$"},
    },
}

APP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["appId", "appName"],
    "properties": {
        "appId": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"},
        "appName": {"type": "string", "minLength": 1},
        "version": {"type": ["string", "number"]},
        "description": {"type": "string"},
        "capability_packs": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "startup": {"type": "object", "properties": {"landing_spot": {"type": "string", "pattern": "^/"}}},
        "authRequired": {"type": "boolean"},
        "admins": STRINGS,
        "targets": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "apiUrl": {"type": "string"},
        "wsUrl": {"type": "string"},
    },
}

ACTION_REF = {
    "type": "object",
    "additionalProperties": False,
    "required": ["module", "action"],
    "properties": {"module": {"type": "string"}, "action": {"type": "string"}, "input": {"type": "object"}},
}
FORM_FIELD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "type": {"enum": ["text", "textarea", "number", "email", "date", "checkbox", "select"]},
        "required": {"type": "boolean"},
        "options": {"type": "array", "items": {"type": "string"}},
        "help": {"type": "string"},
    },
}
BLOCK = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": ["markdown", "card", "list", "table", "form", "action_button"]}},
    "allOf": [
        {"if": {"properties": {"type": {"const": "markdown"}}},
         "then": {"required": ["content"], "properties": {"content": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "card"}}},
         "then": {"required": ["title"], "properties": {"title": {"type": "string"}, "body": {"type": "string"},
                                                         "link": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "list"}}},
         "then": {"required": ["items"], "properties": {"items": {"type": "array", "items": {
             "type": "object", "required": ["title"],
             "properties": {"title": {"type": "string"}, "body": {"type": "string"}, "link": {"type": "string"}}}}}}},
        {"if": {"properties": {"type": {"const": "table"}}},
         "then": {"required": ["source", "columns"], "properties": {
             "source": ACTION_REF, "page_size": {"type": "integer", "minimum": 1, "maximum": 200},
             "empty_text": {"type": "string"},
             "columns": {"type": "array", "minItems": 1, "items": {
                 "type": "object", "required": ["key"], "additionalProperties": False,
                 "properties": {"key": {"type": "string"}, "label": {"type": "string"}}}}}}},
        {"if": {"properties": {"type": {"const": "form"}}},
         "then": {"required": ["action", "fields"], "properties": {
             "action": ACTION_REF, "fields": {"type": "array", "minItems": 1, "items": FORM_FIELD},
             "title": {"type": "string"}, "submit_label": {"type": "string"},
             "success_message": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "action_button"}}},
         "then": {"required": ["action", "label"], "properties": {
             "action": ACTION_REF, "label": {"type": "string"}, "confirm": {"type": "string"},
             "success_message": {"type": "string"}}}},
    ],
}
PAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "route", "blocks"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"},
        "title": {"type": "string"},
        "route": {"type": "string", "pattern": r"^/([a-z0-9_-]+(/[a-z0-9_-]+)*)?$"},
        "auth": {"enum": ["required", "public"]},
        "description": {"type": "string"},
        "blocks": {"type": "array", "items": BLOCK},
    },
}

NAV_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"label": {"type": "string"}, "title": {"type": "string"}, "route": {"type": "string"},
                   "path": {"type": "string"}, "href": {"type": "string"}, "icon": {"type": "string"},
                   "auth": {"enum": ["required", "public", "anonymous"]}, "order": {"type": "integer"},
                   "id": {"type": "string"}, "page": {"type": "string"},
                   "roles": {"type": "array", "items": {"enum": ["owner", "admin", "member"]}}},
    "anyOf": [{"required": ["label"]}, {"required": ["title"]}],
}
NAVIGATION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "landing_spot": {"type": "string", "pattern": "^/"},
        "startup_mode": {"enum": ["ask", "workflow", "page"]},
        "pages": {"type": "array", "items": NAV_ITEM},
        "items": {"type": "array", "items": NAV_ITEM},
    },
}
ROUTE_MANIFEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["routes"],
    "properties": {
        "routes": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["path", "page"],
            "properties": {"path": {"type": "string", "pattern": r"^/"}, "page": {"type": "string"},
                           "label": {"type": "string"}, "nav": {"type": "boolean"},
                           "order": {"type": "integer"}}}},
    },
}
COLOR = {"type": "string", "pattern": r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}
CSS_COLOR = {"type": "string", "pattern": r"^(#[0-9a-fA-F]{3,8}|rgba?\([0-9., %]+\))$"}
COLOR_GROUP = {"type": "object", "additionalProperties": CSS_COLOR,
               "properties": {"name": {"type": "string"}}}
FONT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"family": {"type": "string", "pattern": r"^[^;{}<>]*$"},
                   "fallbacks": {"type": "string", "pattern": r"^[^;{}<>]*$"},
                   "googleFont": {"type": "string", "pattern": "^https://"}, "tailwindClass": {"type": "string"},
                   "localFont": {"type": "boolean"}, "src": {"type": "string"}},
}
BRAND = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "tagline": {"type": "string"},
        "colors": {"type": "object", "additionalProperties": {"oneOf": [COLOR, COLOR_GROUP]}},
        "fonts": {"type": "object", "additionalProperties": {
            "oneOf": [{"type": "string", "pattern": r"^[^;{}<>]*$"}, FONT]}},
        "font_urls": {"type": "array", "items": {"type": "string", "pattern": "^https://"}},
        "assets": {"type": "object", "additionalProperties": False,
                   "properties": {key: {"type": "string"} for key in ("logo", "wordmark", "favicon",
                                                                      "backgroundImage")}},
        "shadows": {"type": "object", "additionalProperties": {"type": "string"}},
        "logo": {"type": ["string", "null"]},
        "favicon": {"type": ["string", "null"]},
    },
}
UI = {"type": "object", "properties": {"radius": {"type": "string", "pattern": r"^\d+(px|rem)$"},
                                       "density": {"enum": ["comfortable", "compact"]}}}
SHELL = {"type": "object", "properties": {"footer_text": {"type": "string"}, "show_notifications": {"type": "boolean"},
                                          "home_route": {"type": "string"}}}

STRICT: dict[str, Any] = {"brand": BRAND, "ui": UI, "shell": SHELL}
