"""Problems found in the app workspace and workflow bundles, reported one precise way.

Apps register a validator at startup; ``python manage.py mozaiks validate`` and the system
checks show every problem with file, key path, what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem: ``level`` is error (the item is unavailable) or warning (it still loads)."""

    level: str
    code: str
    file: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        location = f"{self.file}:{self.path}" if self.path else self.file
        hint = f" Fix: {self.hint}" if self.hint else ""
        return f"[{self.code}] {location}: {self.message}{hint}"


_validators: dict[str, Callable[[], Iterable[Problem]]] = {}


def register_validator(name: str, validator: Callable[[], Iterable[Problem]]) -> None:
    """Register (or replace) the validator called ``name``."""
    _validators[name] = validator


def run_validators() -> list[Problem]:
    """Run every registered validator and return all problems, errors first."""
    problems: list[Problem] = []
    for validator in _validators.values():
        problems.extend(validator())
    return sorted(problems, key=lambda problem: (problem.level != ERROR, problem.file, problem.path))


_workspace_validators: dict[str, Callable[[Path], Iterable[Problem]]] = {}


def register_workspace_validator(name: str, validator: Callable[[Path], Iterable[Problem]]) -> None:
    """Register a check of any workspace folder (the factory validates staged workspaces with it)."""
    _workspace_validators[name] = validator


def run_workspace_validators(app_dir: Path) -> list[Problem]:
    """Every registered workspace check on ``app_dir``, errors first."""
    problems: list[Problem] = []
    for validator in _workspace_validators.values():
        problems.extend(validator(app_dir))
    return sorted(problems, key=lambda problem: (problem.level != ERROR, problem.file, problem.path))
