"""Load the app workspace (``MOZAIKS_APP_DIR``) and the enabled capability packs into a :class:`Workspace`.

Pure: no Django apps, no database, so ``settings.py`` can call it to extend ``INSTALLED_APPS``.
Every defect becomes a :class:`~mozaiks_core.validation.Problem`; a broken part is left out and
everything else still loads.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from mozaiks_core.plugins import schemas
from mozaiks_core.plugins.documents import DocumentReader, warn
from mozaiks_core.plugins.module_manifest import load_module
from mozaiks_core.plugins.specs import NavItem, PackSpec, PageSpec, Workspace
from mozaiks_core.validation import ERROR

FRAMEWORK_PACKAGE = Path(__file__).resolve().parent.parent
# First path segments the framework serves itself; a page there would never be reached.
RESERVED_ROUTE_PREFIXES = frozenset({"admin", "api", "accounts", "_allauth", "chat", "billing", "health", "ready",
                                     "static", "media", "brand", "ws"})
FRAMEWORK_PACK_ROOT = FRAMEWORK_PACKAGE / "packs"
MODULE_NAMESPACE = "mozaiks_modules"
RESERVED_LABELS = frozenset({
    "admin", "auth", "contenttypes", "sessions", "messages", "staticfiles", "humanize", "channels", "ninja",
    "daphne", "account", "socialaccount", "mfa", "headless", "github", "google", "usersessions", "api", "static",
    "media", "modules", "mozaiks", "app", "workflows",
})


def _import_name(folder: Path, module_id: str) -> str:
    """Framework packs import under ``mozaiks_core``; everything else under ``mozaiks_modules``."""
    folder = folder.resolve()
    if not folder.is_relative_to(FRAMEWORK_PACKAGE):
        return f"{MODULE_NAMESPACE}.{module_id}"
    return ".".join(folder.relative_to(FRAMEWORK_PACKAGE.parent).parts)


def _packs(roots: Iterable[Path], reader: DocumentReader) -> dict[str, PackSpec]:
    found: dict[str, PackSpec] = {}
    for root in roots:
        if not root.is_dir():
            reader.add(ERROR, "mozaiks.E008", str(root), "", "capability pack root does not exist",
                       "fix MOZAIKS_PACK_ROOTS")
            continue
        for manifest in sorted(root.glob("*/capability_pack.yaml")):
            data = reader.read(manifest)
            if data is None or not reader.validate(data, schemas.PACK, manifest) or data["capability_pack_id"] in found:
                continue
            contributes = data.get("contributes") or {}
            found[data["capability_pack_id"]] = PackSpec(
                id=data["capability_pack_id"], label=data["label"], version=str(data.get("version", "")),
                visibility=data["visibility"], folder=manifest.parent, description=data.get("description", ""),
                licensed_services=tuple((data.get("requires") or {}).get("licensed_services") or ()),
                **{key: tuple(contributes.get(key) or ()) for key in ("modules", "pages", "workflows", "events")},
                hard_constraints=tuple(data.get("hard_constraints") or ()),
            )
    return found


def _enable_packs(workspace: Workspace, found: dict[str, PackSpec], licensed: set[str],
                  reader: DocumentReader) -> list[PackSpec]:
    enabled = []
    for index, pack_id in enumerate(workspace.selected_packs):
        pack = found.get(pack_id)
        where = f"capability_packs[{index}]"
        if pack is None:
            reader.add(ERROR, "mozaiks.E008", workspace.app_dir / "app.json", where,
                       f"unknown capability pack '{pack_id}'",
                       f"available packs: {', '.join(sorted(found)) or 'none'}; or add its root to MOZAIKS_PACK_ROOTS")
            continue
        missing = sorted(set(pack.licensed_services) - licensed)
        if pack.visibility == "licensed" and missing:
            reader.add(ERROR, "mozaiks.E008", workspace.app_dir / "app.json", where,
                       f"capability pack '{pack_id}' is refused: it requires the licensed service(s) "
                       f"{', '.join(missing)}, which MOZAIKS_LICENSED_SERVICES does not list",
                       f"license them and set MOZAIKS_LICENSED_SERVICES={','.join(missing)}, or remove the pack")
            found[pack_id] = _with_status(pack, "refused")
            continue
        found[pack_id] = _with_status(pack, "enabled")
        enabled.append(found[pack_id])
    return enabled


def _with_status(pack: PackSpec, status: str) -> PackSpec:
    return replace(pack, status=status, enabled=status == "enabled")


def _module_folders(workspace: Workspace, packs: list[PackSpec], reader: DocumentReader) -> list[tuple[Path, str]]:
    folders: list[tuple[Path, str]] = []
    modules_dir = workspace.app_dir / "modules"
    if modules_dir.is_dir():
        folders += [(path.parent, "app") for path in sorted(modules_dir.glob("*/module.yaml"))]
    for pack in packs:
        for index, module_id in enumerate(pack.modules):
            candidates = [pack.folder / "modules" / module_id, pack.folder]
            folder = next((c for c in candidates if (c / "module.yaml").exists() and c.name == module_id), None)
            if folder is None:
                reader.add(ERROR, "mozaiks.E008", pack.folder / "capability_pack.yaml", f"contributes.modules[{index}]",
                           f"pack module '{module_id}' has no module.yaml", f"add modules/{module_id}/module.yaml")
                continue
            folders.append((folder, f"pack:{pack.id}"))
    return folders


def _modules(workspace: Workspace, folders: list[tuple[Path, str]], reserved: set[str], reader: DocumentReader) -> None:
    for folder, source in folders:
        module_id = folder.name
        if module_id in reserved or module_id.startswith("mozaiks"):
            reader.add(ERROR, "mozaiks.E004", folder / "module.yaml", "module.id",
                       f"module id '{module_id}' collides with the installed Django app label '{module_id}'",
                       "choose another module id (and rename the folder)")
            workspace.failed_modules[module_id] = "id collides with a framework app"
            continue
        if module_id in workspace.modules:
            reader.add(ERROR, "mozaiks.E004", folder / "module.yaml", "module.id",
                       f"module id '{module_id}' is already provided by {workspace.modules[module_id].source}",
                       "remove one of the two modules")
            continue
        before = len(reader.problems)
        spec = load_module(folder, _import_name(folder, module_id), source, reader)
        if spec is None:
            first = next((p for p in reader.problems[before:] if p.level == ERROR), None)
            workspace.failed_modules[module_id] = first.message if first else "invalid"
            continue
        workspace.modules[module_id] = spec


def _check_reactions(workspace: Workspace, reader: DocumentReader) -> None:
    declared = [event for module in workspace.modules.values() for event in module.events]
    for module in list(workspace.modules.values()):
        for index, reaction in enumerate(module.reactions):
            path = module.folder / "contracts/reactions.yaml"
            if not any(fnmatch.fnmatchcase(event, reaction.on) for event in declared) and "*" not in reaction.on:
                reader.add(ERROR, "mozaiks.E006", path, f"reactions[{index}].on",
                           f"reaction '{reaction.id}' listens to '{reaction.on}', which no loaded module declares",
                           "declare the event in its module's contracts/events.yaml or fix the name")
            if reaction.kind == "notification" and "notifications" not in workspace.modules:
                reader.add(ERROR, "mozaiks.E006", path, f"reactions[{index}].kind",
                           f"reaction '{reaction.id}' sends a notification but the notifications pack is not enabled",
                           'add "notifications" to capability_packs in app.json')


def _check_page(page: PageSpec, path: Path, workspace: Workspace, reader: DocumentReader) -> bool:
    wanted = {"table": "query", "form": "mutation", "action_button": "mutation"}
    ok = True
    for index, block in enumerate(page.blocks):
        if block["type"] not in wanted:
            continue
        ref = block.get("source") or block.get("action") or {}
        key = f"blocks[{index}].{'source' if block['type'] == 'table' else 'action'}"
        module = workspace.modules.get(ref.get("module", ""))
        action = module.actions.get(ref.get("action", "")) if module else None
        if action is None:
            reader.add(ERROR, "mozaiks.E009", path, key,
                       f"unknown module action '{ref.get('module')}.{ref.get('action')}'",
                       "name a module action declared in its module.yaml")
            ok = False
        elif action.type != wanted[block["type"]]:
            reader.add(ERROR, "mozaiks.E009", path, key,
                       f"a {block['type']} needs a {wanted[block['type']]} action; '{action.id}' is a {action.type}",
                       f"point it at a {wanted[block['type']]} action")
            ok = False
    return ok


def _pages(workspace: Workspace, packs: list[PackSpec], reader: DocumentReader) -> None:
    files = sorted((workspace.app_dir / "ui" / "pages").glob("*.yaml"))
    for pack in packs:
        files += [pack.folder / "pages" / f"{page_id}.yaml" for page_id in pack.pages]
    for path in files:
        data = reader.read(path)
        if data is None or not reader.validate(data, schemas.PAGE, path):
            continue
        page = PageSpec(id=data["id"], title=data["title"], route=data["route"], blocks=tuple(data["blocks"]),
                        auth=data.get("auth", "required"), description=data.get("description", ""),
                        file=reader.name(path))
        if page.route.strip("/").split("/")[0] in RESERVED_ROUTE_PREFIXES:
            reader.add(ERROR, "mozaiks.E009", path, "route",
                       f"route '{page.route}' is served by the framework itself, so this page would never show",
                       f"choose a route outside /{', /'.join(sorted(RESERVED_ROUTE_PREFIXES))}")
            continue
        if page.route in workspace.routes:
            reader.add(ERROR, "mozaiks.E009", path, "route",
                       f"route '{page.route}' is already served by page '{workspace.routes[page.route]}'",
                       "give each page its own route")
            continue
        if _check_page(page, path, workspace, reader):
            workspace.pages[page.id] = page
            workspace.routes[page.route] = page.id


def _lenient(workspace: Workspace, relative: str, schema: dict[str, Any], reader: DocumentReader) -> dict[str, Any]:
    path = workspace.app_dir / relative
    if not path.exists():
        return {}
    data = reader.read(path)
    if not isinstance(data, dict):
        return {}
    reader.validate(data, schema, path, level="warning")
    return data


def _navigation(workspace: Workspace, reader: DocumentReader) -> None:
    items: list[NavItem] = []
    manifest_path = workspace.app_dir / "ui" / "route_manifest.json"
    manifest = _lenient(workspace, "ui/route_manifest.json", schemas.ROUTE_MANIFEST, reader)
    for index, route in enumerate(manifest.get("routes") or []):
        if not isinstance(route, dict) or "page" not in route or "path" not in route:
            continue
        page = workspace.pages.get(route["page"])
        if page is None:
            warn(reader, "mozaiks.W001", manifest_path, f"routes[{index}].page",
                 f"route '{route['path']}' names unknown page '{route['page']}'; it is not served",
                 f"known pages: {', '.join(sorted(workspace.pages)) or 'none'}")
            continue
        workspace.routes.setdefault(route["path"], page.id)
        if route.get("nav"):
            items.append(NavItem(route.get("label") or page.title, route["path"], page.auth, "",
                                 route.get("order", 100)))
    nav_path = workspace.app_dir / "brand" / "navigation.json"
    navigation = _lenient(workspace, "brand/navigation.json", schemas.NAVIGATION, reader)
    for index, raw in enumerate(navigation.get("items") or []):
        if not isinstance(raw, dict) or "label" not in raw:
            continue
        href = raw.get("href") or raw.get("route") or "/"
        if raw.get("route") and raw["route"] not in workspace.routes:
            warn(reader, "mozaiks.W001", nav_path, f"items[{index}].route",
                 f"navigation item '{raw['label']}' points at '{raw['route']}', which no page serves",
                 "add a page with that route or fix the link")
            continue
        page = workspace.page_for_route(raw.get("route", ""))
        items.append(NavItem(raw["label"], href, raw.get("auth") or (page.auth if page else "public"),
                             raw.get("icon", ""), raw.get("order", index), tuple(raw.get("roles") or ())))
    seen: set[str] = set()
    workspace.navigation = tuple(item for item in sorted(items, key=lambda i: i.order)
                                 if not (item.href in seen or seen.add(item.href)))


def _brand(workspace: Workspace, reader: DocumentReader) -> None:
    workspace.brand = _lenient(workspace, "brand/brand.json", schemas.BRAND, reader)
    workspace.ui = _lenient(workspace, "brand/ui.json", schemas.UI, reader)
    workspace.shell = _lenient(workspace, "config/shell.json", schemas.SHELL, reader)
    for key in ("logo", "favicon"):
        asset = workspace.brand.get(key)
        if isinstance(asset, str) and asset and not (workspace.app_dir / "brand" / "assets" / asset).is_file():
            warn(reader, "mozaiks.W003", workspace.app_dir / "brand" / "brand.json", key,
                 f"{key} '{asset}' is not a file in brand/assets/", "add the file or remove the key")
            workspace.brand = {**workspace.brand, key: None}


def load_workspace(app_dir: Path, pack_roots: Iterable[Path] = (), licensed_services: Iterable[str] = (),
                   reserved_labels: Iterable[str] = ()) -> Workspace:
    """Read and validate the whole workspace once; problems are collected, never raised."""
    app_dir = Path(app_dir).resolve()
    workspace = Workspace(app_dir=app_dir)
    reader = DocumentReader(app_dir, workspace.problems)
    app_json = app_dir / "app.json"
    data = reader.read(app_json) if app_json.exists() else None
    if not app_json.exists():
        reader.add(ERROR, "mozaiks.E001", app_json, "", "app.json is missing",
                   'create it: {"appId": "my-app", "appName": "My App", "version": "0.1.0"}')
    if isinstance(data, dict) and reader.validate(data, schemas.APP, app_json):
        workspace.app_id, workspace.app_name = data["appId"], data["appName"]
        workspace.version = str(data["version"])
        workspace.selected_packs = tuple(data.get("capability_packs") or ())
    found = _packs([FRAMEWORK_PACK_ROOT, *map(Path, pack_roots)], reader)
    enabled = _enable_packs(workspace, found, set(licensed_services), reader)
    workspace.packs = found
    reserved = set(RESERVED_LABELS) | set(reserved_labels)
    _modules(workspace, _module_folders(workspace, enabled, reader), reserved, reader)
    _check_reactions(workspace, reader)
    _pages(workspace, enabled, reader)
    _navigation(workspace, reader)
    _brand(workspace, reader)
    workspace.workflow_dirs = tuple(path.parent for path in sorted((app_dir / "workflows").glob("*/orchestrator.yaml")))
    workspace.workflow_dirs += _pack_workflows(enabled, reader)
    _check_pack_events(workspace, enabled, reader)
    return workspace


def _pack_workflows(packs: list[PackSpec], reader: DocumentReader) -> tuple[Path, ...]:
    """The workflow bundles packs contribute (``contributes.workflows`` names folders of ``workflows/``)."""
    found: list[Path] = []
    for pack in packs:
        for index, name in enumerate(pack.workflows):
            bundle = pack.folder / "workflows" / name
            if (bundle / "orchestrator.yaml").is_file():
                found.append(bundle)
            else:
                reader.add(ERROR, "mozaiks.E008", pack.folder / "capability_pack.yaml",
                           f"contributes.workflows[{index}]",
                           f"workflow '{name}' has no workflows/{name}/orchestrator.yaml",
                           "add the bundle or remove it from the manifest")
    return tuple(found)


def _check_pack_events(workspace: Workspace, packs: list[PackSpec], reader: DocumentReader) -> None:
    for pack in packs:
        for index, event_type in enumerate(pack.events):
            if workspace.event(event_type) is None:
                reader.add(ERROR, "mozaiks.E008", pack.folder / "capability_pack.yaml", f"contributes.events[{index}]",
                           f"pack '{pack.id}' contributes event '{event_type}', which none of its modules declares",
                           "declare it in the module's contracts/events.yaml")

