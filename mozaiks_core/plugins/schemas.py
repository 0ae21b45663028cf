"""JSON Schemas of every workspace manifest: modules, contracts, packs, pages, brand and shell.

Strict manifests (modules, contracts, packs, pages) reject unknown keys so a typo is an error,
never a silently ignored setting. Everything is plain data so the loader can run before Django.
"""

from __future__ import annotations

from typing import Any

MODULE_SCHEMA_ID = "mozaiks.module.v1"
PACK_SCHEMA_ID = "mozaiks.capability_pack.v1"

IDENTIFIER = {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,48}$"}
EVENT_TYPE = {"type": "string", "pattern": r"^domain\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"}
ROLES = {"type": "array", "items": {"enum": ["owner", "admin", "member"]}, "uniqueItems": True}
JSON_SCHEMA = {"type": "object"}

MODULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "module"],
    "properties": {
        "schema": {"const": MODULE_SCHEMA_ID},
        "module": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "display_name", "version"],
            "properties": {
                "id": IDENTIFIER,
                "display_name": {"type": "string", "minLength": 1},
                "version": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "handler": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
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
                "required": ["id", "handler_method", "type"],
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
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {"type": EVENT_TYPE, "description": {"type": "string"},
                               "payload_schema": JSON_SCHEMA},
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

REACTIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reactions"],
    "properties": {
        "reactions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "on", "kind"],
                "properties": {
                    "id": IDENTIFIER,
                    "on": {"type": "string", "pattern": r"^domain\.[a-z0-9_.*]+$"},
                    "kind": {"enum": ["handler", "notification", "workflow"]},
                    "handler_method": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
                    "notification": NOTIFICATION_TEMPLATE,
                    "capability_id": {"type": "string", "minLength": 1},
                    "message": {"type": "string"},
                    "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                },
                "allOf": [
                    {"if": {"properties": {"kind": {"const": "handler"}}},
                     "then": {"required": ["handler_method"]}},
                    {"if": {"properties": {"kind": {"const": "notification"}}},
                     "then": {"required": ["notification"]}},
                    {"if": {"properties": {"kind": {"const": "workflow"}}},
                     "then": {"required": ["capability_id"]}},
                ],
            },
        }
    },
}

MODULE_SETTINGS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["settings"],
    "properties": {
        "settings": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"default": {}, "description": {"type": "string"}, "required": {"type": "boolean"}},
            },
        }
    },
}

NOTIFICATIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["categories"],
    "properties": {
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

ADMIN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["models"],
    "properties": {
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["model"],
                "properties": {
                    "model": {"type": "string", "pattern": r"^[A-Za-z_]\w*$"},
                    "list_display": {"type": "array", "items": {"type": "string"}},
                    "list_filter": {"type": "array", "items": {"type": "string"}},
                    "search_fields": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

DOTTED_CALLABLE = {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"}
RUNTIME_EXTENSIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"api_router": DOTTED_CALLABLE, "startup_service": DOTTED_CALLABLE},
}

PACK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "capability_pack_id", "label", "visibility"],
    "properties": {
        "schema": {"const": PACK_SCHEMA_ID},
        "capability_pack_id": IDENTIFIER,
        "label": {"type": "string", "minLength": 1},
        "version": {"type": "string"},
        "description": {"type": "string"},
        "visibility": {"enum": ["public", "licensed", "private"]},
        "requires": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"licensed_services": {"type": "array", "items": {"type": "string"}}},
        },
        "contributes": {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: {"type": "array", "items": {"type": "string"}}
                           for key in ("modules", "pages", "workflows", "events")},
        },
        "hard_constraints": {"type": "array", "items": {"type": "string"}},
    },
}

APP = {
    "type": "object",
    "required": ["appId", "appName", "version"],
    "properties": {
        "appId": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$"},
        "appName": {"type": "string", "minLength": 1},
        "version": {"type": "string"},
        "capability_packs": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
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
    "required": ["label"],
    "properties": {"label": {"type": "string"}, "route": {"type": "string"}, "href": {"type": "string"},
                   "icon": {"type": "string"}, "auth": {"enum": ["required", "public", "anonymous"]},
                   "order": {"type": "integer"},
                   "roles": {"type": "array", "items": {"enum": ["owner", "admin", "member"]}}},
}
NAVIGATION = {"type": "object", "additionalProperties": False, "required": ["items"],
              "properties": {"items": {"type": "array", "items": NAV_ITEM}}}
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
BRAND = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "colors": {"type": "object", "additionalProperties": COLOR},
        "fonts": {"type": "object", "additionalProperties": {"type": "string", "pattern": r"^[^;{}<>]*$"}},
        "font_urls": {"type": "array", "items": {"type": "string", "pattern": "^https://"}},
        "logo": {"type": ["string", "null"]},
        "favicon": {"type": ["string", "null"]},
    },
}
UI = {"type": "object", "properties": {"radius": {"type": "string", "pattern": r"^\d+(px|rem)$"},
                                       "density": {"enum": ["comfortable", "compact"]}}}
SHELL = {"type": "object", "properties": {"footer_text": {"type": "string"}, "show_notifications": {"type": "boolean"},
                                          "home_route": {"type": "string"}}}

STRICT: dict[str, Any] = {"brand": BRAND, "ui": UI, "shell": SHELL}
