"""Python plugins: installed packages that declare the entry-point group ``mozaiks.plugins``.

An entry point names a :class:`MozaiksPlugin` subclass. Discovery runs at settings time (a
plugin may add a Django app); the version gate skips incompatible plugins with a warning, and
:func:`check_required_settings` fails startup with ``ImproperlyConfigured`` naming a missing setting.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from mozaiks_core import __version__
from mozaiks_core.validation import ERROR, WARNING, Problem

ENTRY_POINT_GROUP = "mozaiks.plugins"
logger = logging.getLogger(__name__)


class MozaiksPlugin:
    """What a plugin declares (like NetBox's ``PluginConfig``); subclass it and set the attributes."""

    name: str = ""
    version: str = "0.0.0"
    verbose_name: str = ""
    description: str = ""
    min_version: str | None = None
    max_version: str | None = None
    django_app: str | None = None
    default_settings: dict[str, Any] = {}
    required_settings: list[str] = []
    navigation: list[dict[str, Any]] = []
    api_router: str | None = None
    template_slots: dict[str, str] = {}
    reactions: list[dict[str, Any]] = []


@dataclass
class LoadedPlugin:
    """A discovered plugin and what became of it: ``loaded``, ``skipped`` or ``error``."""

    name: str
    version: str
    status: str
    message: str = ""
    entry_point: str = ""
    plugin: type[MozaiksPlugin] | None = None
    config: dict[str, Any] = field(default_factory=dict)


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.2.3rc1"`` → ``(1, 2, 3)``; enough for min/max gates without extra dependencies."""
    return tuple(int(number) for number in re.findall(r"\d+", text.split("+")[0])[:3]) or (0,)


def version_problem(plugin: type[MozaiksPlugin], core_version: str = __version__) -> str:
    """Why ``plugin`` cannot run on this MozaiksCore version (empty when it can)."""
    core = parse_version(core_version)
    if plugin.min_version and core < parse_version(plugin.min_version):
        return f"needs MozaiksCore >= {plugin.min_version}, this is {core_version}"
    if plugin.max_version and core > parse_version(plugin.max_version):
        return f"supports MozaiksCore <= {plugin.max_version}, this is {core_version}"
    return ""


def discover_plugins(core_version: str = __version__) -> list[LoadedPlugin]:
    """Load every ``mozaiks.plugins`` entry point; incompatible or broken plugins are skipped, not fatal."""
    found: list[LoadedPlugin] = []
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a broken plugin must not take the project down
            found.append(LoadedPlugin(entry_point.name, "", "error", f"cannot be imported: {exc!r}",
                                      entry_point.value))
            continue
        if not (isinstance(plugin, type) and issubclass(plugin, MozaiksPlugin)):
            found.append(LoadedPlugin(entry_point.name, "", "error",
                                      "the entry point must name a MozaiksPlugin subclass", entry_point.value))
            continue
        name = plugin.name or entry_point.name
        reason = version_problem(plugin, core_version)
        if reason:
            logger.warning("mozaiks plugin %s %s skipped: %s", name, plugin.version, reason)
            found.append(LoadedPlugin(name, plugin.version, "skipped", reason, entry_point.value, plugin))
            continue
        found.append(LoadedPlugin(name, plugin.version, "loaded", "", entry_point.value, plugin))
    return found


def plugin_problems(plugins: list[LoadedPlugin]) -> list[Problem]:
    """Skipped and broken plugins as problems (``mozaiks.W002`` / ``mozaiks.E011``)."""
    problems = []
    for plugin in plugins:
        if plugin.status == "skipped":
            problems.append(Problem(WARNING, "mozaiks.W002", f"entry point {plugin.entry_point}", "",
                                    f"plugin '{plugin.name}' {plugin.version} skipped: {plugin.message}",
                                    "install a plugin release compatible with this MozaiksCore version"))
        elif plugin.status == "error":
            problems.append(Problem(ERROR, "mozaiks.E011", f"entry point {plugin.entry_point}", "",
                                    f"plugin '{plugin.name}' not loaded: {plugin.message}",
                                    "fix or uninstall the plugin package"))
    return problems


def check_required_settings(plugins: list[LoadedPlugin], configured: dict[str, dict[str, Any]]) -> None:
    """Merge each plugin's defaults with ``MOZAIKS_PLUGINS_CONFIG``; a missing required key stops startup."""
    for loaded in plugins:
        if loaded.status != "loaded" or loaded.plugin is None:
            continue
        config = {**loaded.plugin.default_settings, **(configured.get(loaded.name) or {})}
        for key in loaded.plugin.required_settings:
            if config.get(key) in (None, ""):
                raise ImproperlyConfigured(
                    f"Plugin '{loaded.name}' requires the setting '{key}': set "
                    f"MOZAIKS_PLUGINS_CONFIG = {{'{loaded.name}': {{'{key}': ...}}}} in your settings."
                )
        loaded.config = config
