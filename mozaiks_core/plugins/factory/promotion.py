"""Promotion: an approved staged change copied into the live workspace, all or nothing.

The change is validated again against the live workspace as it is now; then every file that will
be overwritten is backed up to ``MOZAIKS_STAGING_DIR/<id>/backup/`` and each file is written
through a temporary file and ``os.replace``. When any write fails, the backup is restored and the
files created so far are removed, so the live workspace is left byte-identical. A promoted change
writes a new workspace revision: every process reloads its pages and workflows (the reload signal).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from mozaiks_core.plugins.factory.staging import ReviewError, change_dir, live_dir, revalidate, staged_files
from mozaiks_core.plugins.models import StagedChange
from mozaiks_core.validation import ERROR
from mozaiks_core.workspace_info import bump_revision


class PromotionFailed(RuntimeError):
    """Promotion stopped; the live workspace is unchanged and the message says why."""


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.promoting")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def apply_files(files: dict[str, bytes], live: Path, backup: Path) -> None:
    """Write ``files`` under ``live``; on any failure restore ``backup`` and remove what was created."""
    if backup.exists():
        shutil.rmtree(backup)
    backup.mkdir(parents=True)
    created: list[Path] = []
    replaced: list[str] = []
    try:
        for path in sorted(files):
            target = live / path
            if target.is_file():
                (backup / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backup / path)
                replaced.append(path)
            else:
                missing = [parent for parent in [target, *target.parents] if parent != live and
                           parent.is_relative_to(live) and not parent.exists()]
                created += missing
            _write(target, files[path])
    except Exception as exc:
        for path in replaced:
            os.replace(backup / path, live / path)
        for path in sorted(created, key=lambda item: len(item.parts)):
            if path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)  # it did not exist before this promotion
        raise PromotionFailed(f"writing the live workspace failed ({exc!r}); every file was restored") from exc


def promote(change: StagedChange, user: Any) -> StagedChange:
    """Re-validate an approved change, copy it into the live workspace atomically, then signal a reload."""
    if change.status != StagedChange.Status.APPROVED:
        raise ReviewError(f"staged change #{change.pk} is {change.status}; approve it before promoting")
    problems = revalidate(change)
    errors = [problem for problem in problems if problem.level == ERROR]
    if errors:
        change.status = StagedChange.Status.FAILED
        change.notes = "re-validation at promotion failed: " + "; ".join(map(str, errors[:5]))
        change.save(update_fields=["status", "notes"])
        raise PromotionFailed(f"staged change #{change.pk} no longer validates against the live workspace: "
                              f"{errors[0]}")
    live = live_dir()
    try:
        apply_files(staged_files(change), live, change_dir(change) / "backup")
    except PromotionFailed as exc:
        change.status = StagedChange.Status.FAILED
        change.notes = str(exc)
        change.save(update_fields=["status", "notes"])
        raise
    bump_revision(live)
    with transaction.atomic():
        change.status = StagedChange.Status.PROMOTED
        change.promoted_by, change.promoted_at = user, timezone.now()
        change.notes = "\n".join(problem.message for problem in problems if problem.code == "mozaiks.W031")
        change.save(update_fields=["status", "promoted_by", "promoted_at", "notes"])
    return change
