"""``python manage.py mozaiks validate``: list every workspace and workflow problem.

``--format json`` prints ``{"errors": n, "warnings": n, "problems": [...]}`` for CI and editors.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mozaiks_core.validation import ERROR, run_validators


class Command(BaseCommand):
    """Operator commands of MozaiksCore."""

    help = "MozaiksCore operator commands: `validate` checks the app workspace and workflow bundles."
    # validate reports the same problems the system checks would, so it must run even when they fail.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["validate"], help="what to do")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="output format")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = run_validators()
        errors = [problem for problem in problems if problem.level == ERROR]
        if options["format"] == "json":
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
