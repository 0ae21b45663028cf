"""Importing the Python files of a bundle (``tools/*.py``) and resolving tool and hook functions."""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from mozaiks_core.runtime.bundles.reader import ProblemCollector

MODULE_PREFIX = "mozaiks_workflow_tools"


def _module_name(bundle_name: str, stem: str) -> str:
    safe = re.sub(r"\W", "_", f"{bundle_name}.{stem}")
    return f"{MODULE_PREFIX}.{safe}"


class ToolFileLoader:
    """Imports each tool file of one bundle once per load (fresh module objects on reload)."""

    def __init__(self, bundle_name: str, bundle_dir: Path, problems: ProblemCollector) -> None:
        self.bundle_name = bundle_name
        self.bundle_dir = bundle_dir
        self.problems = problems
        self._modules: dict[Path, ModuleType | None] = {}

    def resolve_path(self, file: str) -> Path:
        """``file`` as written in YAML (``greet.py``, ``tools/greet.py``, ``greet``) → its path."""
        name = file if file.endswith(".py") else f"{file}.py"
        candidate = Path(name)
        if candidate.parts and candidate.parts[0] == "tools":
            return self.bundle_dir / candidate
        return self.bundle_dir / "tools" / candidate

    def _module(self, yaml_file: str, key_path: str, file: str) -> ModuleType | None:
        path = self.resolve_path(file)
        if path in self._modules:
            return self._modules[path]
        module: ModuleType | None = None
        if not path.is_file():
            self.problems.error(
                "tool.file_missing", yaml_file, key_path, f"tool file {file!r} does not exist ({path.name} "
                f"is not in {path.parent.name}/).", f"Create tools/{path.name} or fix the file name.",
            )
        else:
            name = _module_name(self.bundle_name, path.stem)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec) if spec and spec.loader else None
            try:
                sys.modules[name] = module  # type: ignore[assignment]
                spec.loader.exec_module(module)  # type: ignore[union-attr]
            except Exception as exc:  # a broken tool file must not take the registry down
                sys.modules.pop(name, None)
                module = None
                self.problems.error(
                    "tool.import_failed", yaml_file, key_path,
                    f"importing {path.name} failed: {type(exc).__name__}: {exc}.",
                    "Fix the tool file so that it imports cleanly.",
                )
        self._modules[path] = module
        return module

    def function(self, yaml_file: str, key_path: str, file: str, function: str) -> Callable[..., Any] | None:
        """The callable ``function`` of ``file``, or ``None`` with an error recorded."""
        module = self._module(yaml_file, key_path, file)
        if module is None:
            return None
        target = getattr(module, function, None)
        if target is None or not callable(target) or inspect.isclass(target):
            available = sorted(
                name for name, value in vars(module).items()
                if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
            )
            self.problems.error(
                "tool.function_missing", yaml_file, f"{key_path}.function",
                f"{self.resolve_path(file).name} has no function {function!r}.",
                f"Define {function}() there or use one of: {', '.join(available) or '(none)'}.",
            )
            return None
        return target
