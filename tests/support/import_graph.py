"""The import graph of ``mozaiks_core``'s runtime, read from the source with :mod:`ast`.

Every ``import`` counts, also those inside functions: a deferred import still ties two modules
together, it only hides the tie from the interpreter at start-up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "mozaiks_core"


def module_name(path: Path) -> str:
    """``mozaiks_core/runtime/runs/writer.py`` -> ``mozaiks_core.runtime.runs.writer``."""
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> Iterator[str]:
    """The modules of ``modules`` that ``path`` imports; ``from pkg import mod`` counts as ``pkg.mod``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    yield submodule
                elif base in modules:
                    yield base


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    """Each module under ``root`` (migrations aside) and the modules under ``root`` it imports.

    A package stands as ``package.__init__``, so it belongs to its own folder, not its parent's.
    """
    paths = {module_name(path): path for path in root.rglob("*.py") if "migrations" not in path.parts}
    names = set(paths)
    node = {name: f"{name}.__init__" if path.name == "__init__.py" else name for name, path in paths.items()}
    return {node[name]: {node[target] for target in _imports(path, names)} - {node[name]}
            for name, path in paths.items()}


SEPARATE_FACE_MODULES = ("models",)


def folder_of(module: str, parent: str) -> str:
    """The subpackage of ``parent`` that holds ``module`` (``parent`` itself for its own modules).

    ``parent.models`` is a folder of its own: the tables every layer reads are below all of them.
    """
    rest = module[len(parent) + 1:] if module.startswith(parent + ".") else ""
    head, dot, _ = rest.partition(".")
    if (dot and head != "__init__") or head in SEPARATE_FACE_MODULES:
        return f"{parent}.{head}"
    return parent


def folder_graph(graph: dict[str, set[str]], parent: str) -> dict[str, set[str]]:
    """The folders under ``parent`` and the other folders their modules import."""
    folders: dict[str, set[str]] = {}
    inside = parent + "."
    for module, targets in graph.items():
        if not module.startswith(inside):
            continue
        source = folder_of(module, parent)
        edges = folders.setdefault(source, set())
        edges.update(folder_of(target, parent) for target in targets if target.startswith(inside))
        edges.discard(source)
    return folders


def cycles_between_folders(graph: dict[str, set[str]], parent: str) -> list[list[str]]:
    """Groups of folders under ``parent`` that import each other, directly or around a circle.

    ``parent``'s own modules (the app's face) count as one folder: a circle that runs through a
    face module and a subpackage is as much a tangle as one between two subpackages.
    """
    folders = folder_graph(graph, parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(folders.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(folders):
        if node not in index:
            visit(node)
    return found


def witnesses(graph: dict[str, set[str]], parent: str, source: str, target: str) -> list[str]:
    """The module imports that make folder ``source`` depend on folder ``target`` (for messages)."""
    inside = parent + "."
    return sorted(f"{module} -> {imported}" for module, imports in graph.items()
                  if module.startswith(inside) and folder_of(module, parent) == source
                  for imported in imports if imported.startswith(inside) and folder_of(imported, parent) == target)
