"""The MozaiksAI import path for tool code: ``from mozaiksai.core.workflow.outputs.ui_tools import use_ui_tool``.

Bundles written for the MozaiksAI runtime import ``use_ui_tool`` and ``UIToolError`` from
``mozaiksai``. When no real ``mozaiksai`` package is installed, :func:`install` adds a meta-path
finder (at the end of ``sys.meta_path``, after the real importers) that serves those modules
from :mod:`mozaiks_core.runtime.engine.ui_tools`. A real installation is never shadowed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

UI_TOOL_MODULES = (
    "mozaiksai.core.workflow.outputs.ui_tools",
    "mozaiksai.engine.outputs.ui_tools",
    "mozaiksai.core.workflow.ui_tools",
)
PACKAGES = frozenset(
    ".".join(name.split(".")[:depth]) for name in UI_TOOL_MODULES for depth in range(1, name.count(".") + 1)
)


class MozaiksAIAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the ``mozaiksai`` UI-tool modules (and their parent packages) from MozaiksCore."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for the aliased names only; everything else is left to the other finders."""
        if fullname in PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname in UI_TOOL_MODULES:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """Default module creation."""
        return None

    def exec_module(self, module: ModuleType) -> None:
        """Packages stay empty; UI-tool modules re-export ``use_ui_tool`` and ``UIToolError``."""
        if module.__name__ in UI_TOOL_MODULES:
            from mozaiks_core.runtime.engine.ui_tools import UIToolError, use_ui_tool

            module.use_ui_tool = use_ui_tool  # type: ignore[attr-defined]
            module.UIToolError = UIToolError  # type: ignore[attr-defined]
            module.__all__ = ["UIToolError", "use_ui_tool"]  # type: ignore[attr-defined]


def installed() -> bool:
    """True when the alias finder is on ``sys.meta_path``."""
    return any(isinstance(finder, MozaiksAIAliasFinder) for finder in sys.meta_path)


def install() -> bool:
    """Add the alias finder unless a real ``mozaiksai`` is importable; True when the alias is active."""
    if installed():
        return True
    if "mozaiksai" in sys.modules or importlib.util.find_spec("mozaiksai") is not None:
        return False
    sys.meta_path.append(MozaiksAIAliasFinder())
    return True


def uninstall() -> None:
    """Remove the alias finder and the modules it served (tests switch between both cases)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, MozaiksAIAliasFinder)]
    for name in [name for name in sys.modules if name in PACKAGES or name in UI_TOOL_MODULES]:
        module = sys.modules[name]
        if isinstance(getattr(module, "__loader__", None), MozaiksAIAliasFinder):
            del sys.modules[name]
