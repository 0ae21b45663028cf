"""Ownership classes and the build-policy rules of the capability-pack model, as checks with ids.

Every module, pack and capability belongs to one class: ``host_universal`` (built into the host,
never generated), ``framework_pack`` (selected from the catalog, not regenerated), ``hosted_pack``
(a licensed integration, consumed through an app-owned facade), ``generated_module`` (app
specific) or ``external_adapter`` (wiring and a facade to an outside system). The class is
declared (``capability_source``) or derived from where the item comes from.

Checks: ``mozaiks.E020`` a host-universal capability built as a module; ``mozaiks.E021`` a hosted
pack in an OSS build without its licensed services (in :mod:`.loader`); ``mozaiks.E022`` a page
bound to a hosted pack's module instead of its facade; ``mozaiks.E023`` a framework pack
regenerated as an app module; ``mozaiks.E013`` an admin section a pack contributes but none of its
modules declares.
"""

from __future__ import annotations

from mozaiks_core.plugins.documents import DocumentReader
from mozaiks_core.plugins.specs import PackSpec, Workspace
from mozaiks_core.validation import ERROR

# What the host gives every app (accounts, organizations, billing, entitlements, the chat runtime,
# the admin shell): a module with one of these ids rebuilds the host.
HOST_UNIVERSAL_CAPABILITIES = frozenset({
    "auth", "accounts", "users", "user_management", "identity", "organizations", "billing", "entitlements",
    "websocket", "transport", "sessions", "chat", "runtime", "admin_shell", "event_dispatch",
})


def pack_ownership(pack: PackSpec, framework: bool) -> str:
    """The derived class of a pack without ``capability_source``."""
    if framework:
        return "framework_pack"
    if pack.implementation_mode == "external_integration" or pack.delivery_mode == "external_service":
        return "external_adapter"
    if pack.visibility in {"licensed", "private"} or pack.delivery_mode == "hosted_service":
        return "hosted_pack"
    return "framework_pack"


def check_policy(workspace: Workspace, enabled: list[PackSpec], reader: DocumentReader) -> None:
    """Run the ownership rules on the loaded workspace (problems are added to ``reader``)."""
    for module in list(workspace.modules.values()):
        manifest = module.folder / "module.yaml"
        if module.source != "app":
            continue
        if module.ownership == "host_universal" or module.id in HOST_UNIVERSAL_CAPABILITIES:
            reader.add(ERROR, "mozaiks.E020", manifest, "module.id",
                       f"'{module.id}' is a host-universal capability: the host provides it to every app, so it "
                       "must never be built as a module", "remove the module and use the host's own feature")
            del workspace.modules[module.id]
            workspace.failed_modules[module.id] = "host-universal capability"
        elif module.ownership == "framework_pack" and not module.source_pack_id:
            reader.add(ERROR, "mozaiks.E023", manifest, "module.capability_source",
                       f"module '{module.id}' says it is a framework pack, but framework packs are selected, "
                       "not regenerated", "add the pack to capability_packs in app.json and delete this copy, "
                       "or declare capability_source: generated_module")
            del workspace.modules[module.id]
            workspace.failed_modules[module.id] = "framework pack regenerated as a module"
    _check_facades(workspace, reader)
    for pack in enabled:
        declared = {panel for module_id in pack.modules if module_id in workspace.modules
                    for panel in workspace.modules[module_id].admin_panels}
        for index, section in enumerate(pack.admin_sections):
            if section not in declared:
                reader.add(ERROR, "mozaiks.E013", pack.manifest or pack.folder, f"contributes.admin_sections[{index}]",
                           f"pack '{pack.id}' contributes admin section '{section}', which none of its modules "
                           "declares", f"add a panel with id '{section}' to a module's contracts/admin.yaml")


def _check_facades(workspace: Workspace, reader: DocumentReader) -> None:
    """Pages bind to app-owned facade modules, never to a hosted pack's own modules."""
    for page_id, page in list(workspace.pages.items()):
        for index, block in enumerate(page.blocks):
            ref = block.get("source") or block.get("action") or {}
            module = workspace.modules.get(ref.get("module", "")) if isinstance(ref, dict) else None
            if module is None or module.ownership != "hosted_pack":
                continue
            pack_id = module.source_pack_id or module.source.partition(":")[2]
            key = "source" if "source" in block else "action"
            reader.add(ERROR, "mozaiks.E022", workspace.app_dir / page.file, f"blocks[{index}].{key}",
                       f"page '{page_id}' calls '{module.id}', a module of hosted pack '{pack_id}'; pages must "
                       "call an app-owned facade module",
                       "generate a facade module (its handler uses backend/integrations/<pack>_client.py) "
                       "and point the page at it")
            workspace.pages.pop(page_id, None)
            workspace.routes = {route: pid for route, pid in workspace.routes.items() if pid != page_id}
            break
