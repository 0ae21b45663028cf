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

from mozaiks_core.plugins import schemas, spellings
from mozaiks_core.plugins.documents import DocumentReader, deprecated, warn
from mozaiks_core.plugins.module_manifest import load_module
from mozaiks_core.plugins.policy import check_policy, pack_ownership
from mozaiks_core.plugins.presentation import read_brand, read_navigation
from mozaiks_core.plugins.specs import PackSpec, PageSpec, Workspace
from mozaiks_core.validation import ERROR

PACK_MANIFEST = "manifest.yaml"
OLD_PACK_MANIFEST = "capability_pack.yaml"
PROVENANCE = "provenance.yaml"

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


def _pack_manifests(root: Path) -> list[Path]:
    """``<pack>/manifest.yaml`` of every pack folder; ``capability_pack.yaml`` is the older name."""
    found = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        if (folder / PACK_MANIFEST).is_file():
            found.append(folder / PACK_MANIFEST)
        elif (folder / OLD_PACK_MANIFEST).is_file():
            found.append(folder / OLD_PACK_MANIFEST)
    return found


def _pack_spec(data: dict[str, Any], manifest: Path, framework: bool) -> PackSpec:
    contributes = data.get("contributes") or {}
    requires = data.get("requires") or {}
    pack = PackSpec(
        id=data["capability_pack_id"], label=data["label"], version=str(data.get("version", "")),
        visibility=data["visibility"], folder=manifest.parent, manifest=manifest,
        description=data.get("description") or data.get("summary", ""), summary=data.get("summary", ""),
        pack_type=data.get("pack_type", ""), implementation_mode=data.get("implementation_mode", ""),
        delivery_mode=data.get("delivery_mode", "app_embedded"),
        licensed_services=tuple(requires.get("licensed_services") or ()),
        connectors=tuple(requires.get("connectors") or ()),
        **{key: tuple(contributes.get(key) or ()) for key in ("modules", "pages", "admin_sections", "workflows",
                                                               "events")},
        hard_constraints=tuple(data.get("hard_constraints") or ()), surfaces=tuple(data.get("surfaces") or ()),
        supported_domains=tuple(data.get("supported_domains") or ()), branding=dict(data.get("branding") or {}),
        generation_rules=tuple(data.get("generation_rules") or ()), supersedes=tuple(data.get("supersedes") or ()),
        adapter_template=data.get("adapter_template", ""),
    )
    return replace(pack, ownership=data.get("capability_source") or pack_ownership(pack, framework))


def _packs(roots: Iterable[Path], reader: DocumentReader) -> dict[str, PackSpec]:
    found: dict[str, PackSpec] = {}
    for root in roots:
        if not root.is_dir():
            reader.add(ERROR, "mozaiks.E008", str(root), "", "capability pack root does not exist",
                       "fix MOZAIKS_PACK_ROOTS")
            continue
        for manifest in _pack_manifests(root):
            data = reader.read(manifest)
            if manifest.name == OLD_PACK_MANIFEST:
                deprecated(reader, manifest, "", f"the pack manifest name '{OLD_PACK_MANIFEST}'",
                           f"'{PACK_MANIFEST}' in the pack folder")
            data = spellings.schema_version(data, reader, manifest, schemas.PACK_SCHEMA_ID)
            if data is None or not reader.validate(data, schemas.PACK, manifest):
                continue
            if data["capability_pack_id"] in found:
                warn(reader, "mozaiks.W007", manifest, "capability_pack_id",
                     f"capability pack '{data['capability_pack_id']}' is already provided by "
                     f"{reader.name(found[data['capability_pack_id']].folder)}; this one is ignored",
                     "give the pack another capability_pack_id or remove one of the two roots")
                continue
            pack = _pack_spec(data, manifest, root == FRAMEWORK_PACK_ROOT)
            if pack.adapter_template and not (pack.folder / pack.adapter_template).is_file():
                reader.add(ERROR, "mozaiks.E008", manifest, "adapter_template",
                           f"adapter template '{pack.adapter_template}' is not a file of pack '{pack.id}'",
                           "add the file or remove adapter_template")
                continue
            found[pack.id] = pack
    return found


def _enable_packs(workspace: Workspace, found: dict[str, PackSpec], licensed: set[str], connectors: set[str],
                  reader: DocumentReader) -> list[PackSpec]:
    enabled = []
    app_json = workspace.app_dir / "app.json"
    superseded = {old: pack_id for pack_id in workspace.selected_packs if pack_id in found
                  for old in found[pack_id].supersedes}
    for index, pack_id in enumerate(workspace.selected_packs):
        pack = found.get(pack_id)
        where = f"capability_packs[{index}]"
        if pack is None:
            reader.add(ERROR, "mozaiks.E008", app_json, where,
                       f"unknown capability pack '{pack_id}'",
                       f"available packs: {', '.join(sorted(found)) or 'none'}; or add its root to MOZAIKS_PACK_ROOTS")
            continue
        if pack_id in superseded:
            warn(reader, "mozaiks.W006", app_json, where,
                 f"capability pack '{pack_id}' is superseded by '{superseded[pack_id]}', which is also selected; "
                 f"'{pack_id}' is not enabled", f"remove '{pack_id}' from capability_packs")
            found[pack_id] = _with_status(pack, "superseded")
            continue
        missing = sorted(set(pack.licensed_services) - licensed)
        if pack.visibility == "licensed" and missing:
            reader.add(ERROR, "mozaiks.E008", app_json, where,
                       f"capability pack '{pack_id}' is refused: it requires the licensed service(s) "
                       f"{', '.join(missing)}, which MOZAIKS_LICENSED_SERVICES does not list",
                       f"license them and set MOZAIKS_LICENSED_SERVICES={','.join(missing)}, or remove the pack")
            found[pack_id] = _with_status(pack, "refused")
            continue
        if pack.ownership == "hosted_pack" and workspace.host_mode == "oss" and (missing or not pack.licensed_services):
            reader.add(ERROR, "mozaiks.E021", app_json, where,
                       f"capability pack '{pack_id}' is a hosted pack: an OSS build (host_mode: oss) may not include "
                       "it unless every licensed service it requires is licensed",
                       "license its services (MOZAIKS_LICENSED_SERVICES), set MOZAIKS_HOST_MODE=hosted on a hosted "
                       "build, or remove the pack")
            found[pack_id] = _with_status(pack, "refused")
            continue
        unconfigured = sorted(set(pack.connectors) - connectors)
        if unconfigured:
            reader.add(ERROR, "mozaiks.E012", app_json, where,
                       f"capability pack '{pack_id}' is refused: it requires the connector(s) "
                       f"{', '.join(unconfigured)}, which MOZAIKS_CONNECTORS does not list",
                       f"configure them and set MOZAIKS_CONNECTORS={','.join(unconfigured)}, or remove the pack")
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
            if pack.overlay is not None:
                if not (modules_dir / module_id / "module.yaml").is_file():
                    reader.add(ERROR, "mozaiks.E014", pack.manifest or pack.folder, f"contributes.modules[{index}]",
                               f"pack '{pack.id}' contributes module '{module_id}' through its app_overlay/, which "
                               "has not been promoted into this workspace",
                               f"run `manage.py mozaiks stage --pack {pack.id}`, review it and promote it")
                continue
            candidates = [pack.folder / "modules" / module_id, pack.folder]
            folder = next((c for c in candidates if (c / "module.yaml").exists() and c.name == module_id), None)
            if folder is None:
                reader.add(ERROR, "mozaiks.E008", pack.manifest or pack.folder, f"contributes.modules[{index}]",
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
        pack_id = source.partition(":")[2] or workspace.provenance.get(f"modules/{module_id}", "")
        pack = workspace.packs.get(pack_id)
        ownership = pack.ownership if pack else "generated_module"
        spec = load_module(folder, _import_name(folder, module_id), source, reader, ownership)
        if spec is not None and pack_id:
            spec = replace(spec, source_pack_id=pack_id)
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
        if pack.overlay is None:
            files += [pack.folder / "pages" / f"{page_id}.yaml" for page_id in pack.pages]
    for path in files:
        data = reader.read(path)
        if data is None or not reader.validate(data, schemas.PAGE, path):
            continue
        name = reader.name(path)
        page = PageSpec(id=data["id"], title=data["title"], route=data["route"], blocks=tuple(data["blocks"]),
                        auth=data.get("auth", "required"), description=data.get("description", ""),
                        file=name, source_pack_id=workspace.provenance.get(name, ""))
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


def _read_app_json(workspace: Workspace, reader: DocumentReader) -> None:
    app_json = workspace.app_dir / "app.json"
    if not app_json.exists():
        reader.add(ERROR, "mozaiks.E001", app_json, "", "app.json is missing",
                   'create it: {"appId": "my-app", "appName": "My App", "version": "0.1.0"}')
        return
    data = reader.read(app_json)
    if isinstance(data, dict) and reader.validate(data, schemas.APP, app_json):
        workspace.app_id, workspace.app_name = data["appId"], data["appName"]
        workspace.version = str(data.get("version", workspace.version))
        workspace.selected_packs = tuple(data.get("capability_packs") or ())
        workspace.landing_spot = (data.get("startup") or {}).get("landing_spot", "")


def _read_provenance(workspace: Workspace, reader: DocumentReader) -> None:
    """``provenance.yaml``'s ``source_packs``: which pack contributed each promoted path."""
    path = workspace.app_dir / PROVENANCE
    data = reader.read(path) if path.is_file() else None
    if isinstance(data, dict) and isinstance(data.get("source_packs"), dict):
        workspace.provenance = {str(key): str(value) for key, value in data["source_packs"].items()}


def load_workspace(app_dir: Path, pack_roots: Iterable[Path] = (), licensed_services: Iterable[str] = (),
                   reserved_labels: Iterable[str] = (), host_mode: str = "oss",
                   connectors: Iterable[str] = ()) -> Workspace:
    """Read and validate the whole workspace once; problems are collected, never raised.

    ``host_mode`` and ``licensed_services`` are the build policy inputs of the pack model;
    ``connectors`` are the configured connectors packs may require.
    """
    app_dir = Path(app_dir).resolve()
    workspace = Workspace(app_dir=app_dir, host_mode=host_mode)
    reader = DocumentReader(app_dir, workspace.problems)
    _read_app_json(workspace, reader)
    _read_provenance(workspace, reader)
    found = _packs([FRAMEWORK_PACK_ROOT, *map(Path, pack_roots)], reader)
    workspace.packs = found
    enabled = _enable_packs(workspace, found, set(licensed_services), set(connectors), reader)
    reserved = set(RESERVED_LABELS) | set(reserved_labels)
    _modules(workspace, _module_folders(workspace, enabled, reader), reserved, reader)
    _check_reactions(workspace, reader)
    _pages(workspace, enabled, reader)
    read_navigation(workspace, reader)
    read_brand(workspace, reader)
    workspace.workflow_dirs = tuple(workflow_bundle_dirs(app_dir / "workflows"))
    workspace.workflow_dirs += _pack_workflows(enabled, reader)
    _check_pack_events(workspace, enabled, reader)
    check_policy(workspace, enabled, reader)
    return workspace


def workflow_bundle_dirs(root: Path) -> list[Path]:
    """Bundles of a workflow root: ``<name>/orchestrator.yaml`` or the nested ``<name>/backend/orchestrator.yaml``."""
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if (entry / "orchestrator.yaml").is_file():
            found.append(entry)
        elif (entry / "backend" / "orchestrator.yaml").is_file():
            found.append(entry / "backend")
    return found


def _pack_workflows(packs: list[PackSpec], reader: DocumentReader) -> tuple[Path, ...]:
    """The workflow bundles packs contribute (``contributes.workflows`` names folders of ``workflows/``)."""
    found: list[Path] = []
    for pack in packs:
        if pack.overlay is not None:
            continue
        for index, name in enumerate(pack.workflows):
            bundle = pack.folder / "workflows" / name
            if (bundle / "orchestrator.yaml").is_file():
                found.append(bundle)
            else:
                reader.add(ERROR, "mozaiks.E008", pack.manifest or pack.folder,
                           f"contributes.workflows[{index}]",
                           f"workflow '{name}' has no workflows/{name}/orchestrator.yaml",
                           "add the bundle or remove it from the manifest")
    return tuple(found)


def _check_pack_events(workspace: Workspace, packs: list[PackSpec], reader: DocumentReader) -> None:
    for pack in packs:
        for index, event_type in enumerate(pack.events):
            if workspace.event(event_type) is None:
                reader.add(ERROR, "mozaiks.E008", pack.manifest or pack.folder, f"contributes.events[{index}]",
                           f"pack '{pack.id}' contributes event '{event_type}', which none of its modules declares",
                           "declare it in the module's contracts/events.yaml")

