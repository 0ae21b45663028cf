"""The plans catalog as Django system checks: ``manage.py check`` fails on a broken subscriptions.yaml."""

from __future__ import annotations

from typing import Any

from django.core import checks

from mozaiks_core.validation import ERROR, Problem


def as_check(problem: Problem) -> checks.CheckMessage:
    """One catalog problem as a check message: the file and key path, what is wrong, the fix as hint."""
    location = f"{problem.file}:{problem.path}" if problem.path else problem.file
    level = checks.Error if problem.level == ERROR else checks.Warning
    return level(f"{location}: {problem.message}", hint=problem.hint or None, id=problem.code)


def catalog_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every problem of the workspace's subscriptions.yaml (unknown keys, negative limits, missing resets ...)."""
    from mozaiks_core.billing.catalog import validate_catalog_file

    return [as_check(problem) for problem in validate_catalog_file()]
