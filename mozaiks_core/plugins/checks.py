"""Workspace problems as Django system checks (``manage.py check``) and as ``mozaiks validate`` output."""

from __future__ import annotations

from typing import Any

from django.core import checks

from mozaiks_core.plugins.registry import all_problems
from mozaiks_core.validation import ERROR, Problem


def as_check(problem: Problem) -> checks.CheckMessage:
    """One problem as a check message whose id is the problem code (``mozaiks.E001`` ...)."""
    location = f"{problem.file}:{problem.path}" if problem.path else problem.file
    level = checks.Error if problem.level == ERROR else checks.Warning
    return level(f"{location}: {problem.message}", hint=problem.hint or None, id=problem.code)


def workspace_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every problem of the app workspace, its modules, packs and plugins."""
    return [as_check(problem) for problem in all_problems()]
