"""One module folder → a validated :class:`ModuleSpec` (or None, with problems saying why).

The folder follows the published module contract: ``module.yaml``, ``contracts/`` (events,
reactions, notifications, settings, admin), ``runtime_extensions.yaml`` and the generated-module
backend (``backend/handler.py``, ``service.py``, ``repo.py``, ``policy.py``, ``schemas.py``).
A module is unavailable only for its own defects: the caller keeps loading the other modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mozaiks_core.plugins import schemas, spellings
from mozaiks_core.plugins.documents import DocumentReader, deprecated
from mozaiks_core.plugins.specs import ActionSpec, EventSpec, ModuleSpec, PermissionSpec, ReactionSpec
from mozaiks_core.validation import ERROR

SKIPPED_DIRS = {"migrations", "tests", "__pycache__", "templates", "static"}
# The generated-module backend files of the module contract; handler.py is the entrypoint the
# host imports, policy.py may define ``preflight`` (called before every action), the others are
# the module's own layers (imported by the handler, compiled and checked here).
BACKEND_FILES = ("handler.py", "service.py", "repo.py", "policy.py", "schemas.py")
QUERY_PREFIXES = ("list_", "get_", "read", "search", "view", "count_", "show_", "find_", "export_")


def _syntax_errors(folder: Path, reader: DocumentReader) -> bool:
    """Compile the module's Python files so a syntax error disables this module, not the project."""
    broken = False
    for source in sorted(folder.rglob("*.py")):
        if SKIPPED_DIRS.intersection(source.relative_to(folder).parts[:-1]):
            continue
        try:
            compile(source.read_bytes(), str(source), "exec")
        except SyntaxError as exc:
            reader.add(ERROR, "mozaiks.E005", source, f"line {exc.lineno}", f"Python syntax error: {exc.msg}",
                       "fix the code; the module stays disabled until it compiles")
            broken = True
    return broken


def _read(path: Path, reader: DocumentReader) -> Any | None:
    """The parsed document; an empty one is ``{}`` so the schema check names what is missing."""
    before = len(reader.problems)
    data = reader.read(path)
    if data is None and len(reader.problems) == before:
        return {}
    return data


def _optional(folder: Path, name: str, schema: dict[str, Any], reader: DocumentReader) -> dict[str, Any] | None:
    path = folder / name
    if not path.exists():
        return {}
    data = _read(path, reader)
    if data is None:
        return None
    if name == "contracts/reactions.yaml":
        data = spellings.reactions(data, reader, path)
    if name == "runtime_extensions.yaml":
        data = spellings.runtime_extensions(data, reader, path, schemas.RUNTIME_EXTENSIONS_SCHEMA_ID)
    return data if reader.validate(data, schema, path) else None


def _contract(folder: Path, name: str, schema: dict[str, Any], reader: DocumentReader) -> dict[str, Any] | None:
    """``contracts/<name>``; the module root is our older place for it (read, with a deprecation)."""
    if (folder / "contracts" / name).exists() or not (folder / name).exists():
        return _optional(folder, f"contracts/{name}", schema, reader)
    deprecated(reader, folder / name, "", f"'{name}' at the module root", f"'contracts/{name}'")
    return _optional(folder, name, schema, reader)


def action_type(raw: dict[str, Any]) -> str:
    """An action's declared ``type``, else derived: one that emits events or is not named like a read is a mutation."""
    if raw.get("type"):
        return str(raw["type"])
    if raw.get("emits"):
        return "mutation"
    return "query" if str(raw["id"]).startswith(QUERY_PREFIXES) else "mutation"


def _settings(document: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``settings`` as a map by id (the documented list form and our map form both read)."""
    raw = (document or {}).get("settings") or {}
    if isinstance(raw, list):
        return {item["id"]: {k: v for k, v in item.items() if k != "id"} for item in raw}
    return dict(raw)


def _handler_file(folder: Path, handler: str, manifest: Path, reader: DocumentReader) -> bool:
    """The handler's module file must exist (``backend.handler:X`` → ``backend/handler.py``)."""
    module_path = handler.partition(":")[0].replace(".", "/")
    if (folder / f"{module_path}.py").is_file() or (folder / module_path / "__init__.py").is_file():
        return True
    reader.add(ERROR, "mozaiks.E005", manifest, "module.handler",
               f"handler '{handler}' needs {module_path}.py in the module folder, which does not exist",
               "add the file (the generated-module layout puts it at backend/handler.py) or fix module.handler")
    return False


def _actions(data: dict[str, Any], path: Path, reader: DocumentReader,
             permissions: dict[str, PermissionSpec]) -> dict[str, ActionSpec] | None:
    actions: dict[str, ActionSpec] = {}
    ok = True
    for index, raw in enumerate(data.get("actions") or []):
        where = ("actions", index)
        for key in ("input_schema", "output_schema"):
            if key in raw and not reader.check_json_schema(raw[key], path, (*where, key)):
                ok = False
        for position, permission in enumerate(raw.get("permissions") or []):
            if permission not in permissions:
                reader.add(ERROR, "mozaiks.E010", path, f"actions[{index}].permissions[{position}]",
                           f"unknown permission '{permission}'",
                           f"declare it under permissions: (known: {', '.join(sorted(permissions)) or 'none'})")
                ok = False
        if raw["id"] in actions:
            reader.add(ERROR, "mozaiks.E002", path, f"actions[{index}].id", f"duplicate action id '{raw['id']}'",
                       "give every action a unique id")
            ok = False
        actions[raw["id"]] = ActionSpec(
            id=raw["id"], handler_method=raw["handler_method"], type=action_type(raw),
            description=raw.get("description", ""), input_schema=raw.get("input_schema") or {"type": "object"},
            output_schema=raw.get("output_schema"), permissions=tuple(raw.get("permissions") or ()),
            emits=tuple(raw.get("emits") or ()), entitlement_gate=raw.get("entitlement_gate"),
            auth=raw.get("auth", "required"), counted_limit=raw.get("counted_limit"),
        )
    return actions if ok else None


def _events(module_id: str, folder: Path, reader: DocumentReader) -> dict[str, EventSpec] | None:
    data = _optional(folder, "contracts/events.yaml", schemas.EVENTS, reader)
    if data is None:
        return None
    path = folder / "contracts/events.yaml"
    events: dict[str, EventSpec] = {}
    ok = True
    for index, raw in enumerate(data.get("events") or []):
        if raw["type"].split(".")[1] != module_id:
            reader.add(ERROR, "mozaiks.E007", path, f"events[{index}].type",
                       f"'{raw['type']}' is not an event of module '{module_id}'",
                       f"name it domain.{module_id}.<fact>")
            ok = False
        if "payload_schema" in raw and not reader.check_json_schema(raw["payload_schema"], path,
                                                                  ("events", index, "payload_schema")):
            ok = False
        events[raw["type"]] = EventSpec(raw["type"], raw.get("description", ""),
                                        raw.get("payload_schema") or {"type": "object"})
    return events if ok else None


def _reactions(module_id: str, handler: str, folder: Path, reader: DocumentReader) -> tuple[ReactionSpec, ...] | None:
    data = _optional(folder, "contracts/reactions.yaml", schemas.REACTIONS, reader)
    if data is None:
        return None
    path = folder / "contracts/reactions.yaml"
    reactions = []
    for index, raw in enumerate(data.get("reactions") or []):
        target = raw["target"]
        if target["kind"] == "handler" and not handler:
            reader.add(ERROR, "mozaiks.E006", path, f"reactions[{index}].target.handler_method",
                       f"reaction '{raw['id']}' calls a handler method but module '{module_id}' declares no handler",
                       "set module.handler in module.yaml")
            return None
        reactions.append(ReactionSpec(
            module_id=module_id, id=raw["id"], on=raw["event_type"], kind=target["kind"],
            handler_method=target.get("handler_method", ""), notification=target.get("notification") or {},
            capability_id=target.get("capability_id", ""), message=target.get("message", ""),
            max_attempts=raw.get("max_attempts", 0),
        ))
    return tuple(reactions)


def load_module(folder: Path, import_name: str, source: str, reader: DocumentReader,
                ownership: str = "generated_module") -> ModuleSpec | None:
    """Read ``module.yaml`` and the module's contracts; None when anything makes it unusable.

    ``ownership`` is the class derived from where the module comes from; ``module.capability_source``
    declares it explicitly.
    """
    manifest = folder / "module.yaml"
    data = spellings.schema_version(_read(manifest, reader), reader, manifest, schemas.MODULE_SCHEMA_ID)
    if data is None or not reader.validate(data, schemas.MODULE, manifest):
        return None
    info = data["module"]
    if info["id"] != folder.name:
        reader.add(ERROR, "mozaiks.E003", manifest, "module.id",
                   f"module id '{info['id']}' does not match its folder '{folder.name}'",
                   f"rename the folder to '{info['id']}' or set module.id: {folder.name}")
        return None
    permissions = {raw["id"]: PermissionSpec(raw["id"], raw.get("description", ""),
                                             tuple(raw.get("roles") or ("owner", "admin", "member")))
                   for raw in data.get("permissions") or []}
    actions = _actions(data, manifest, reader, permissions)
    events = _events(info["id"], folder, reader)
    reactions = _reactions(info["id"], info.get("handler", ""), folder, reader)
    settings_doc = _contract(folder, "settings.yaml", schemas.MODULE_SETTINGS, reader)
    notifications_doc = _contract(folder, "notifications.yaml", schemas.NOTIFICATIONS, reader)
    admin_doc = _contract(folder, "admin.yaml", schemas.ADMIN, reader)
    extensions = _optional(folder, "runtime_extensions.yaml", schemas.RUNTIME_EXTENSIONS, reader)
    parts = (actions, events, reactions, settings_doc, notifications_doc, admin_doc, extensions)
    if actions is None or events is None or reactions is None or any(part is None for part in parts):
        return None
    if _syntax_errors(folder, reader):
        return None
    for action in actions.values():
        for emitted in action.emits:
            if emitted not in events:
                index = list(actions).index(action.id)
                reader.add(ERROR, "mozaiks.E007", manifest, f"actions[{index}].emits",
                           f"action '{action.id}' emits '{emitted}', which contracts/events.yaml does not declare",
                           "declare the event in contracts/events.yaml")
                return None
    if actions and not info.get("handler"):
        reader.add(ERROR, "mozaiks.E005", manifest, "module.handler",
                   f"module '{info['id']}' declares actions but no handler class",
                   'set module.handler: "backend.handler:YourHandler"')
        return None
    if info.get("handler") and not _handler_file(folder, info["handler"], manifest, reader):
        return None
    declared = [(item.get("kind"), item.get("entrypoint")) for item in (extensions or {}).get("extensions", ())]
    admin = admin_doc or {}
    return ModuleSpec(
        id=info["id"], display_name=info.get("display_name") or info["id"].replace("_", " ").title(),
        version=str(info["version"]), description=info.get("description", ""), folder=folder,
        import_name=import_name, handler=info.get("handler", ""), source=source,
        ownership=info.get("capability_source") or ownership, permissions=permissions, actions=actions,
        events=events, reactions=reactions, settings=_settings(settings_doc),
        notification_categories=tuple((notifications_doc or {}).get("categories", ())),
        admin_models=tuple([*admin.get("models", ()), *(p for p in admin.get("panels", ()) if p.get("model"))]),
        admin_panels=tuple(panel["id"] for panel in admin.get("panels", ())),
        api_routers=tuple(entry for kind, entry in declared if kind == "api_router"),
        startup_services=tuple(entry for kind, entry in declared if kind == "startup_service"),
        capabilities=tuple(item["capability_id"] for item in data.get("capabilities") or ()),
        backend_files=tuple(name for name in BACKEND_FILES if (folder / "backend" / name).is_file()),
    )
