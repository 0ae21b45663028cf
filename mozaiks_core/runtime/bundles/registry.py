"""The workflow registry: every bundle of every workflow root, loaded once and cached.

Roots are ``MOZAIKS_APP_DIR/workflows`` then ``MOZAIKS_WORKFLOW_ROOTS``; a folder holding an
``orchestrator.yaml`` is a workflow, and so is one whose ``backend/`` holds it (the nested layout
of generated apps: ``workflows/<name>/backend/orchestrator.yaml``). With ``DEBUG`` the registry
reloads when a file of a root changes (an mtime scan at most once a second); otherwise it loads
once per process and again at each new workspace revision (the reload signal promotion writes).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from mozaiks_core.runtime.bundles.loader import load_bundle
from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.bundles.reader import display_path
from mozaiks_core.validation import ERROR, Problem
from mozaiks_core.workspace_info import workspace_revision

logger = logging.getLogger(__name__)

_SCAN_INTERVAL_SECONDS = 1.0
logger = logging.getLogger(__name__)


@dataclass
class WorkflowRegistry:
    """Loaded bundles by name, and the problems of each workflow (errors make it unavailable)."""

    bundles: dict[str, WorkflowBundle] = field(default_factory=dict)
    errors: dict[str, list[Problem]] = field(default_factory=dict)
    warnings: dict[str, list[Problem]] = field(default_factory=dict)
    refused: list[Problem] = field(default_factory=list)  # bundles refused for a duplicate workflow_name
    roots: tuple[Path, ...] = ()

    @property
    def problems(self) -> list[Problem]:
        """Every problem of every workflow, errors first."""
        every = [p for group in (*self.errors.values(), *self.warnings.values()) for p in group] + self.refused
        return sorted(every, key=lambda problem: (problem.level != ERROR, problem.file, problem.path))

    def get(self, name: str) -> WorkflowBundle | None:
        """The loaded bundle called ``name`` (``None`` when absent or unavailable)."""
        return self.bundles.get(name)


def workflow_roots() -> tuple[Path, ...]:
    """The workflow roots in search order."""
    roots = [Path(settings.MOZAIKS_APP_DIR) / "workflows"]
    roots += [Path(root) for root in getattr(settings, "MOZAIKS_WORKFLOW_ROOTS", [])]
    return tuple(root.resolve() for root in roots)


def _bundle_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if (entry / "orchestrator.yaml").is_file():
            found.append(entry)
        elif (entry / "backend" / "orchestrator.yaml").is_file():
            found.append(entry / "backend")
    return found


def _keeps_original(bundle_dir: Path, name: str, first_dir: Path) -> bool:
    """Of two folders of one root declaring ``name``, the one named after it is the original."""
    return bundle_dir.name == name and first_dir.name != name


def _duplicate(name: str, refused_dir: Path, kept_dir: Path, same_root: bool) -> Problem:
    where = "in the same root" if same_root else "in an earlier root"
    return Problem(
        ERROR, "workflow.duplicate_name", display_path(refused_dir / "orchestrator.yaml"), "workflow_name",
        f"workflow_name {name!r} is already used by {display_path(kept_dir / 'orchestrator.yaml')} ({where}); "
        f"this workflow is refused and {display_path(kept_dir)} stays available.",
        f"Give one of them another workflow_name (a copied folder keeps the original's), e.g. "
        f"workflow_name: {refused_dir.name if refused_dir.name != name else name + 'Copy'}.",
    )


def load_registry(roots: tuple[Path, ...] | None = None) -> WorkflowRegistry:
    """Load every bundle of ``roots`` (default: the configured roots) into a new registry.

    Two bundles declaring one ``workflow_name`` never shadow each other silently: the second is
    refused with an error naming both folders (in one root, the folder named after the workflow is
    kept). Every error is also logged, so a broken bundle shows in the server's log.
    """
    registry = WorkflowRegistry(roots=roots if roots is not None else workflow_roots())
    found: dict[str, tuple[Path, Path]] = {}  # name -> (bundle dir, root)
    for root in registry.roots:
        for bundle_dir in _bundle_dirs(root):
            bundle, problems = load_bundle(bundle_dir)
            name = bundle.name if bundle else bundle_dir.name
            if name in found and found[name][0] == bundle_dir:
                continue  # the same folder reached through a root listed twice
            if name in found:
                first_dir, first_root = found[name]
                same_root = first_root == root
                if same_root and _keeps_original(bundle_dir, name, first_dir):
                    registry.refused.append(_duplicate(name, first_dir, bundle_dir, same_root))
                    registry.bundles.pop(name, None)
                    registry.errors.pop(name, None)
                    registry.warnings.pop(name, None)
                else:
                    registry.refused.append(_duplicate(name, bundle_dir, first_dir, same_root))
                    continue
            found[name] = (bundle_dir, root)
            errors = [problem for problem in problems if problem.level == ERROR]
            warnings = [problem for problem in problems if problem.level != ERROR]
            if warnings:
                registry.warnings[name] = warnings
            if bundle is None:
                registry.errors[name] = errors
            else:
                registry.bundles[name] = bundle
    return registry


def _signature(roots: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    entries: list[tuple[str, int, int]] = []
    for root in roots:
        if not root.is_dir():
            continue
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = [name for name in dirnames if name != "__pycache__"]
            for filename in filenames:
                path = os.path.join(directory, filename)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                entries.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


class _RegistryCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry: WorkflowRegistry | None = None
        self.signature: tuple[tuple[str, int, int], ...] = ()
        self.checked_at = 0.0
        self.revision = ""

    def get(self, *, refresh: bool) -> WorkflowRegistry:
        with self.lock:
            roots = workflow_roots()
            revision = workspace_revision()
            stale = self.registry is None or refresh or self.registry.roots != roots or revision != self.revision
            if not stale and settings.DEBUG and time.monotonic() - self.checked_at >= _SCAN_INTERVAL_SECONDS:
                self.checked_at = time.monotonic()
                stale = _signature(roots) != self.signature
            if stale:
                self.revision = revision
                self.signature = _signature(roots)
                self.checked_at = time.monotonic()
                self.registry = load_registry(roots)
                _log_unavailable(self.registry)
            assert self.registry is not None
            return self.registry


def _log_unavailable(registry: WorkflowRegistry) -> None:
    """Each (re)load names every workflow that did not load, with the file, key, reason and fix, once."""
    for name, problems in sorted(registry.errors.items()):
        for problem in problems:
            logger.error("workflow %s is unavailable: %s", name, problem)


_cache = _RegistryCache()


def get_registry(*, refresh: bool = False) -> WorkflowRegistry:
    """The cached registry; reloaded when ``refresh``, when the roots change, or (DEBUG) files change."""
    return _cache.get(refresh=refresh)


def validate_workflows() -> list[Problem]:
    """Validator for ``manage.py mozaiks validate``: every problem of every bundle, freshly loaded."""
    return get_registry(refresh=True).problems


def validate_workflow_root(app_dir: Path) -> list[Problem]:
    """Check the bundles of a workspace folder (a staged one too): every bundle problem, and two
    bundles claiming the same workflow name is an error naming both files."""
    registry = load_registry(((Path(app_dir) / "workflows").resolve(),))
    problems = []
    for problem in registry.problems:
        if problem.code == "workflow.duplicate_name":
            problem = Problem(ERROR, "mozaiks.E030", problem.file, problem.path,
                              problem.message.replace("; this one is ignored.", "") +
                              f" (first defined by {_first_definition(registry, problem)})",
                              "give each workflow its own workflow_name; nothing is promoted until then")
        problems.append(problem)
    return problems


def _first_definition(registry: WorkflowRegistry, duplicate: Problem) -> str:
    name = duplicate.message.split("'")[1] if "'" in duplicate.message else ""
    bundle = registry.bundles.get(name)
    return display_path(bundle.path / "orchestrator.yaml") if bundle is not None else name
