"""Settings-time wiring: load the workspace once and add modules and plugin apps to ``INSTALLED_APPS``.

Workspace modules import as ``mozaiks_modules.<id>`` through a small import finder that maps
each module id to its folder, so a module called ``json`` cannot shadow the standard library.
The loaded workspace is cached per process: requests never rescan the disk. A new workspace
revision (written by promotion, see :mod:`mozaiks_core.workspace_info`) loads it again.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

from mozaiks_core.plugins.loader import MODULE_NAMESPACE, load_workspace
from mozaiks_core.plugins.plugin_host import LoadedPlugin, discover_plugins
from mozaiks_core.plugins.specs import Workspace
from mozaiks_core.workspace_info import workspace_revision


class ModuleFinder(importlib.abc.MetaPathFinder):
    """Resolves ``mozaiks_modules`` and ``mozaiks_modules.<id>`` to the workspace's module folders."""

    def __init__(self) -> None:
        self.folders: dict[str, Path] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """Only the namespace and its direct children; submodules are found through ``__path__``."""
        if fullname == MODULE_NAMESPACE:
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = []
            return spec
        prefix, _, module_id = fullname.partition(".")
        folder = self.folders.get(module_id) if prefix == MODULE_NAMESPACE and "." not in module_id else None
        if folder is None:
            return None
        init = folder / "__init__.py"
        if init.exists():
            return importlib.util.spec_from_file_location(fullname, init, submodule_search_locations=[str(folder)])
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        return spec


_finder = ModuleFinder()
_cache: dict[tuple[object, ...], Workspace] = {}


def _install_finder(workspace: Workspace) -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for module in workspace.modules.values():
        if module.import_name.startswith(f"{MODULE_NAMESPACE}."):
            _finder.folders[module.id] = module.folder


def cached_workspace(app_dir: Path, pack_roots: Iterable[str | Path] = (), licensed: Iterable[str] = (),
                     reserved_labels: Iterable[str] = (), *, host_mode: str = "oss",
                     connectors: Iterable[str] = ()) -> Workspace:
    """The workspace for these settings, loaded on first use and at each new revision, else from memory."""
    options = (str(Path(app_dir).resolve()), tuple(map(str, pack_roots)), tuple(sorted(licensed)), host_mode,
               tuple(sorted(connectors)))
    key = (*options, workspace_revision(app_dir))
    if key not in _cache:
        if reserved_labels == () and _reserved.get(options):
            reserved_labels = _reserved[options]
        _reserved[options] = tuple(reserved_labels)
        for stale in [cached for cached in _cache if cached[:-1] == options]:
            del _cache[stale]
        _cache[key] = load_workspace(Path(app_dir), [Path(root) for root in pack_roots], licensed, reserved_labels,
                                     host_mode=host_mode, connectors=connectors)
        _install_finder(_cache[key])
    return _cache[key]


_reserved: dict[tuple[object, ...], tuple[str, ...]] = {}


@functools.cache
def python_plugins() -> list[LoadedPlugin]:
    """Entry-point plugins, discovered once per process."""
    return discover_plugins()


def workspace_installed_apps(app_dir: Path, pack_roots: Iterable[str | Path], licensed: Iterable[str],
                             installed_apps: Sequence[str], *, host_mode: str = "oss",
                             connectors: Iterable[str] = ()) -> list[str]:
    """The Django apps the workspace's modules and the loaded plugins add (called from settings.py)."""
    reserved = {name.rsplit(".", 1)[-1] for name in installed_apps}
    workspace = cached_workspace(app_dir, pack_roots, licensed, reserved, host_mode=host_mode, connectors=connectors)
    apps = [module.import_name for module in workspace.modules.values()]
    apps += [plugin.plugin.django_app for plugin in python_plugins()
             if plugin.status == "loaded" and plugin.plugin is not None and plugin.plugin.django_app]
    return [app for app in apps if app not in installed_apps]
