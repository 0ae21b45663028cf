"""``python manage.py mozaiks <action>``: validate the workspace and drive the factory path.

- ``validate`` lists every workspace and workflow problem (``--format json`` prints
  ``{"errors": n, "warnings": n, "problems": [...]}`` for CI and editors);
- ``stage PATH|ARCHIVE`` (or ``stage --pack ID``) writes artifacts to the staging area and
  validates the staged workspace; ``staged`` lists staged changes; ``show ID`` prints the diff;
- ``approve ID`` / ``reject ID`` record the review (``--user`` names the operator);
- ``promote ID`` copies an approved change into the live workspace atomically and writes the
  reload signal; ``reload`` writes the signal alone (every process reloads pages and workflows).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mozaiks_core.validation import ERROR, run_validators

ACTIONS = ["validate", "stage", "staged", "show", "approve", "reject", "promote", "reload"]


class Command(BaseCommand):
    """Operator commands of MozaiksCore."""

    help = "MozaiksCore operator commands: validate, stage, staged, show, approve, reject, promote, reload."
    # validate reports the same problems the system checks would, so it must run even when they fail.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=ACTIONS, help="what to do")
        parser.add_argument("target", nargs="?", default="", help="PATH|ARCHIVE for stage, ID for the others")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="output format")
        parser.add_argument("--pack", default="", help="stage: the capability pack whose app_overlay/ to stage")
        parser.add_argument("--label", default="", help="stage: a label for the staged change")
        parser.add_argument("--user", default="", help="the operator's username (recorded as who did it)")
        parser.add_argument("--reason", default="", help="reject: why")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "validate":
            self._validate(options["format"])
            return
        if options["action"] == "reload":
            from django.conf import settings

            from mozaiks_core.workspace_info import bump_revision

            self.stdout.write(f"Reload signal written: revision {bump_revision(settings.MOZAIKS_APP_DIR)}")
            return
        from mozaiks_core.plugins.factory import promotion, staging
        from mozaiks_core.plugins.factory.artifacts import ArtifactRefused
        from mozaiks_core.plugins.models import StagedChange

        user = self._user(options["user"])
        try:
            if options["action"] == "stage":
                self._stage(options, user)
            elif options["action"] == "staged":
                for change in StagedChange.objects.all()[:50]:
                    self.stdout.write(f"#{change.pk} {change.status:9} {change.label} "
                                      f"({len(change.files)} file(s), {change.error_count()} error(s))")
            else:
                change = self._change(options["target"])
                if options["action"] == "show":
                    self._show(change)
                elif options["action"] == "approve":
                    staging.approve(change, user)
                    self.stdout.write(self.style.SUCCESS(f"Approved staged change #{change.pk}."))
                elif options["action"] == "reject":
                    staging.reject(change, user, options["reason"])
                    self.stdout.write(f"Rejected staged change #{change.pk}; the live workspace is unchanged.")
                else:
                    promotion.promote(change, user)
                    self.stdout.write(self.style.SUCCESS(
                        f"Promoted staged change #{change.pk} ({len(change.files)} file(s)); "
                        "reload signal written."))
                    if change.notes:
                        self.stdout.write(self.style.WARNING(change.notes))
        except (ArtifactRefused, staging.ReviewError, promotion.PromotionFailed) as exc:
            raise CommandError(f"refused: {exc}") from exc

    def _validate(self, output: str) -> None:
        problems = run_validators()
        errors = [problem for problem in problems if problem.level == ERROR]
        if output == "json":
            self.stdout.write(json.dumps({"errors": len(errors), "warnings": len(problems) - len(errors),
                                          "problems": [asdict(problem) for problem in problems]}, indent=2))
            if errors:
                raise SystemExit(1)
            return
        for problem in problems:
            style = self.style.ERROR if problem.level == ERROR else self.style.WARNING
            self.stdout.write(style(f"{problem.level.upper()} {problem}"))
        summary = f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)"
        if errors:
            self.stdout.write(self.style.ERROR(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"Workspace valid: {summary}"))

    def _stage(self, options: dict[str, Any], user: Any) -> None:
        from mozaiks_core.plugins.factory import staging

        if options["pack"]:
            change = staging.stage_pack_overlay(options["pack"], user=user)
        elif options["target"]:
            source = Path(options["target"])
            if not source.exists():
                raise CommandError(f"{source}: no such file or folder; give a folder, a .zip or a .tar.gz")
            change = staging.stage_source(source, label=options["label"] or source.name, user=user)
        else:
            raise CommandError("stage needs PATH|ARCHIVE or --pack ID")
        for entry in change.files:
            self.stdout.write(f"  {entry['change']:9} {entry['path']}")
        for problem in change.problems:
            location = f"{problem['file']}:{problem['path']}" if problem["path"] else problem["file"]
            self.stdout.write(f"  {problem['level'].upper()} [{problem['code']}] {location}: {problem['message']}")
        if change.status == change.Status.INVALID:
            raise CommandError(f"staged change #{change.pk} fails validation ({change.error_count()} error(s)); "
                               "nothing was written to the live workspace")
        self.stdout.write(self.style.SUCCESS(
            f"Staged change #{change.pk}: {len(change.files)} file(s), valid; review it in the admin or run "
            f"`manage.py mozaiks approve {change.pk}`"))

    def _show(self, change: Any) -> None:
        from mozaiks_core.plugins.factory.staging import file_diff

        self.stdout.write(f"#{change.pk} {change.label}: {change.status}")
        for entry in change.files:
            if entry["change"] != "unchanged":
                self.stdout.write(file_diff(change, entry["path"]))

    def _change(self, target: str) -> Any:
        from mozaiks_core.plugins.models import StagedChange

        try:
            return StagedChange.objects.get(pk=int(target))
        except (ValueError, StagedChange.DoesNotExist) as exc:
            raise CommandError(f"no staged change with id {target!r}; `manage.py mozaiks staged` lists them") from exc

    def _user(self, username: str) -> Any:
        if not username:
            return None
        try:
            return get_user_model().objects.get(**{get_user_model().USERNAME_FIELD: username})
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"--user {username!r}: no such user") from exc
