"""Staging: artifacts into the staging area, the staged workspace validated as after promotion,
and the review (approve or reject, with who did it).

The staged workspace is a copy of the live one with the artifacts laid over it, in
``MOZAIKS_STAGING_DIR/<id>/workspace``; validation runs every workspace check on it (modules,
packs, pages, policy, workflow bundles) and names the migrations a new module needs.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps as django_apps
from django.conf import settings
from django.utils import timezone

from mozaiks_core.plugins.factory.artifacts import Limits, read_archive, read_directory, read_mapping
from mozaiks_core.plugins.loader import PROVENANCE, load_workspace
from mozaiks_core.plugins.models import StagedChange
from mozaiks_core.plugins.specs import Workspace
from mozaiks_core.validation import ERROR, WARNING, Problem, run_workspace_validators

SKIPPED_LIVE = (".mozaiks", "__pycache__")


class ReviewError(ValueError):
    """A review or promotion step that does not apply to this staged change (the message says why)."""


def limits() -> Limits:
    """The staging caps from settings."""
    return Limits(max_bytes=settings.MOZAIKS_STAGING_MAX_BYTES, max_files=settings.MOZAIKS_STAGING_MAX_FILES)


def live_dir() -> Path:
    """The live workspace (``MOZAIKS_APP_DIR``)."""
    return Path(settings.MOZAIKS_APP_DIR).resolve()


def change_dir(change: StagedChange) -> Path:
    """``MOZAIKS_STAGING_DIR/<id>``: the staged files, the staged workspace, the promotion backup."""
    return Path(settings.MOZAIKS_STAGING_DIR) / str(change.pk)


def staged_files(change: StagedChange) -> dict[str, bytes]:
    """The staged artifacts by workspace-relative path."""
    root = change_dir(change) / "files"
    return {entry["path"]: (root / entry["path"]).read_bytes() for entry in change.files}


def read_artifacts(source: Path) -> dict[str, bytes]:
    """A folder or an archive, read safely (raises ``ArtifactRefused`` naming the file and the reason)."""
    return read_directory(source, limits()) if source.is_dir() else read_archive(source, limits())


def _with_provenance(files: dict[str, bytes], pack_id: str, live: Path) -> dict[str, bytes]:
    """Record ``source_pack_id`` for each contributed module, page and workflow in ``provenance.yaml``."""
    path = live / PROVENANCE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data = data if isinstance(data, dict) else {}
    sources = dict(data.get("source_packs") or {})
    for name in files:
        parts = name.split("/")
        key = "/".join(parts[:2]) if parts[0] in {"modules", "workflows"} else name
        sources[key] = pack_id
    data["source_packs"] = dict(sorted(sources.items()))
    return {**files, PROVENANCE: yaml.safe_dump(data, sort_keys=False).encode("utf-8")}


def _diff(files: dict[str, bytes], live: Path) -> list[dict[str, Any]]:
    entries = []
    for path, data in sorted(files.items()):
        target = live / path
        before = target.read_bytes() if target.is_file() else None
        change = "added" if before is None else ("unchanged" if before == data else "modified")
        entries.append({"path": path, "change": change, "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest()})
    return entries


def file_diff(change: StagedChange, path: str) -> str:
    """The unified diff of one staged file against the live workspace (binary files: a one-line note)."""
    new = (change_dir(change) / "files" / path).read_bytes()
    target = live_dir() / path
    old = target.read_bytes() if target.is_file() else b""
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary file: {len(old)} → {len(new)} bytes"
    return "".join(difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        fromfile=f"live/{path}", tofile=f"staged/{path}"))


def build_staged_workspace(files: dict[str, bytes], target: Path) -> Path:
    """A copy of the live workspace with ``files`` laid over it, at ``target``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(live_dir(), target, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED_LIVE))
    for path, data in files.items():
        destination = target / path
        if destination.is_dir():
            shutil.rmtree(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    return target


def _migration_notes(staged: Workspace) -> list[Problem]:
    """A module with models that this process has not installed needs ``migrate`` and a restart."""
    notes = []
    installed = {config.name for config in django_apps.get_app_configs()}
    for module in staged.modules.values():
        has_models = (module.folder / "models.py").is_file() or (module.folder / "migrations").is_dir()
        if has_models and module.import_name not in installed:
            notes.append(Problem(WARNING, "mozaiks.W031", f"modules/{module.id}/models.py", "",
                                 f"module '{module.id}' has models: after promotion restart the processes and run "
                                 "`python manage.py migrate` before its actions are used",
                                 "promotion reloads pages and workflows; Django apps need a restart"))
    return notes


def _reserved_labels() -> set[str]:
    return {name.rsplit(".", 1)[-1] for name in settings.INSTALLED_APPS
            if not name.startswith(("mozaiks_modules.", "mozaiks_core.packs."))}


def validate_staged(workspace_dir: Path) -> list[Problem]:
    """Every problem of the staged workspace, as the live one would have them after promotion."""
    workspace = load_workspace(workspace_dir, settings.MOZAIKS_PACK_ROOTS, settings.MOZAIKS_LICENSED_SERVICES,
                               _reserved_labels(), host_mode=settings.MOZAIKS_HOST_MODE,
                               connectors=settings.MOZAIKS_CONNECTORS)
    problems = [*workspace.problems, *run_workspace_validators(workspace_dir), *_migration_notes(workspace)]
    return sorted(problems, key=lambda problem: (problem.level != ERROR, problem.file, problem.path))


def _relative(problem: Problem, workspace_dir: Path) -> dict[str, Any]:
    data = asdict(problem)
    for prefix in (str(workspace_dir) + "/", str(workspace_dir.resolve()) + "/"):
        data["file"] = data["file"].replace(prefix, "")
    return data


def stage(files: dict[str, bytes], *, label: str, user: Any = None, origin: str = "cli",
          source_pack_id: str = "", chat_id: str = "") -> StagedChange:
    """Write artifacts to a new staged change, validate it, and record its diff; never touches the live workspace."""
    live = live_dir()
    if source_pack_id:
        files = _with_provenance(files, source_pack_id, live)
    change = StagedChange.objects.create(label=label[:200], origin=origin, source_pack_id=source_pack_id,
                                         chat_id=chat_id, created_by=user if getattr(user, "pk", None) else None)
    root = change_dir(change)
    for path, data in files.items():
        destination = root / "files" / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    change.files = _diff(files, live)
    revalidate(change)
    return change


def revalidate(change: StagedChange) -> list[Problem]:
    """Validate the staged change against the current live workspace and store the outcome."""
    workspace_dir = build_staged_workspace(staged_files(change), change_dir(change) / "workspace")
    problems = validate_staged(workspace_dir)
    change.problems = [_relative(problem, workspace_dir) for problem in problems]
    errors = any(problem.level == ERROR for problem in problems)
    if change.status in {StagedChange.Status.STAGED, StagedChange.Status.INVALID}:
        change.status = StagedChange.Status.INVALID if errors else StagedChange.Status.STAGED
    change.save()
    return problems


def approve(change: StagedChange, user: Any) -> StagedChange:
    """Mark a valid staged change approved by ``user`` (an invalid one cannot be approved)."""
    if change.status != StagedChange.Status.STAGED:
        raise ReviewError(f"staged change #{change.pk} is {change.status}; only a staged change that passed "
                          "validation can be approved")
    change.status = StagedChange.Status.APPROVED
    change.reviewed_by, change.reviewed_at = user, timezone.now()
    change.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return change


def reject(change: StagedChange, user: Any, reason: str = "") -> StagedChange:
    """Reject a staged change; the live workspace is not touched."""
    if change.status in {StagedChange.Status.PROMOTED, StagedChange.Status.REJECTED}:
        raise ReviewError(f"staged change #{change.pk} is already {change.status}")
    change.status = StagedChange.Status.REJECTED
    change.reviewed_by, change.reviewed_at, change.review_reason = user, timezone.now(), reason
    change.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
    return change


def stage_source(source: Path, **options: Any) -> StagedChange:
    """Stage a folder or an archive (``mozaiks stage PATH|ARCHIVE``)."""
    return stage(read_artifacts(source), **options)


def stage_mapping(files: dict[str, str | bytes], **options: Any) -> StagedChange:
    """Stage artifacts given in memory: the runtime API a builder workflow's tool calls."""
    return stage(read_mapping(files, limits()), origin=options.pop("origin", "api"), **options)


def stage_pack_overlay(pack_id: str, **options: Any) -> StagedChange:
    """Stage a capability pack's ``app_overlay/`` with its provenance (``source_pack_id``).

    A hosted pack's ``adapter_template`` becomes ``backend/integrations/<pack>_client.py`` of the
    pack's first module, the app-owned facade that pages bind to.
    """
    from mozaiks_core.plugins.registry import get_workspace

    pack = get_workspace().packs.get(pack_id)
    if pack is None or pack.overlay is None:
        known = sorted(p.id for p in get_workspace().packs.values() if p.overlay is not None)
        raise ReviewError(f"capability pack '{pack_id}' has no app_overlay/ to stage "
                          f"(packs with one: {', '.join(known) or 'none'})")
    files = read_directory(pack.overlay, limits())
    if pack.adapter_template:
        if not pack.modules:
            raise ReviewError(f"capability pack '{pack_id}' has an adapter_template but contributes no facade module; "
                              "list the facade under contributes.modules")
        facade = f"modules/{pack.modules[0]}/backend/integrations"
        files[f"{facade}/__init__.py"] = files.get(f"{facade}/__init__.py", b"")
        files[f"{facade}/{pack.id}_client.py"] = (pack.folder / pack.adapter_template).read_bytes()
    return stage(files, label=options.pop("label", f"pack {pack_id}"), origin="pack", source_pack_id=pack_id,
                 **options)
