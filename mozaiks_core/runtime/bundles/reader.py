"""Reading YAML files of a bundle with precise problems (file, key path, what is wrong, what to do)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mozaiks_core.parsing import DocumentTooComplex, load_yaml, loads_json
from mozaiks_core.validation import ERROR, WARNING, Problem

_MISSING = object()


def display_path(path: Path) -> str:
    """A path as shown in problems: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class ProblemCollector:
    """Collects the problems of one bundle; errors make the bundle unavailable."""

    def __init__(self, bundle_dir: Path) -> None:
        self.bundle_dir = bundle_dir
        self.problems: list[Problem] = []

    def _add(self, level: str, code: str, file: str, path: str, message: str, hint: str) -> None:
        self.problems.append(
            Problem(level, code, display_path(self.bundle_dir / file), path, message, hint)
        )

    def error(self, code: str, file: str, path: str, message: str, hint: str = "") -> None:
        """Record a problem that makes the bundle unavailable."""
        self._add(ERROR, code, file, path, message, hint)

    def warn(self, code: str, file: str, path: str, message: str, hint: str = "") -> None:
        """Record a defect the bundle survives."""
        self._add(WARNING, code, file, path, message, hint)

    @property
    def has_errors(self) -> bool:
        """True when at least one error was recorded."""
        return any(problem.level == ERROR for problem in self.problems)

    def read(self, file: str, *, required: bool = False) -> Any:
        """Parse ``file`` (YAML or JSON) of the bundle; ``None`` when absent or broken (problem recorded)."""
        path = self.bundle_dir / file
        if not path.is_file():
            if required:
                self.error("bundle.file_missing", file, "", f"{file} is missing.", f"Create {file}.")
            return None
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".json":
                return loads_json(text, file) if text.strip() else None
            return load_yaml(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader), file)
        except DocumentTooComplex as exc:
            self.error("bundle.too_complex", file, "", exc.message, "Split or flatten the file.")
        except yaml.MarkedYAMLError as exc:
            mark, context = exc.problem_mark, exc.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
            started = f" ({exc.context} at line {context.line + 1}, column {context.column + 1})" if context else ""
            self.error(
                "bundle.yaml_syntax", file, where, f"YAML syntax error: {exc.problem or exc}{started}.",
                "Fix the YAML at that position (indentation, quoting, a missing colon).",
            )
        except yaml.YAMLError as exc:
            self.error("bundle.yaml_syntax", file, "", f"YAML syntax error: {exc}.", "Fix the YAML syntax.")
        except json.JSONDecodeError as exc:
            self.error(
                "bundle.json_syntax", file, f"line {exc.lineno}, column {exc.colno}",
                f"JSON syntax error: {exc.msg}.", "Fix the JSON at that position.",
            )
        return None

    def mapping(self, file: str, data: Any, key_path: str = "") -> dict[str, Any]:
        """``data`` when it is a mapping, else ``{}`` with an error naming where."""
        if data is None:
            return {}
        if isinstance(data, dict):
            return data
        self.error(
            "bundle.wrong_type", file, key_path or "(root)",
            f"expected a mapping, found {type(data).__name__}.", "Write `key: value` entries here.",
        )
        return {}

    def sequence(self, file: str, data: Any, key_path: str) -> list[Any]:
        """``data`` when it is a list, else ``[]`` with an error naming where."""
        if data is None:
            return []
        if isinstance(data, list):
            return data
        self.error(
            "bundle.wrong_type", file, key_path, f"expected a list, found {type(data).__name__}.",
            "Write a YAML list (`- item` lines) here.",
        )
        return []

    def unknown_keys(self, file: str, data: dict[str, Any], known: set[str], key_path: str = "") -> None:
        """Warn about keys the format does not define (often a typo)."""
        for key in data:
            if key not in known:
                where = f"{key_path}.{key}" if key_path else str(key)
                self.warn(
                    "bundle.unknown_key", file, where, f"unknown key {key!r} is ignored.",
                    f"Remove it or use one of: {', '.join(sorted(known))}.",
                )

    def text(self, file: str, data: dict[str, Any], key: str, key_path: str, *, required: bool = False) -> str:
        """A string value (``""`` when absent); wrong types and missing required values are errors."""
        value = data.get(key, _MISSING)
        where = f"{key_path}.{key}" if key_path else key
        if value is _MISSING or value is None or value == "":
            if required:
                self.error("bundle.required", file, where, f"{key} is required.", f"Set {key}.")
            return ""
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        self.error("bundle.wrong_type", file, where, f"{key} must be a string.", f"Write {key} as text.")
        return ""

    def boolean(self, file: str, data: dict[str, Any], key: str, key_path: str, default: bool) -> bool:
        """A boolean value; anything else is an error."""
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        where = f"{key_path}.{key}" if key_path else key
        self.error("bundle.wrong_type", file, where, f"{key} must be true or false.", "Write true or false.")
        return default

    def integer(self, file: str, data: dict[str, Any], key: str, key_path: str, default: int | None) -> int | None:
        """A positive integer value; anything else is an error."""
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        where = f"{key_path}.{key}" if key_path else key
        self.error("bundle.wrong_type", file, where, f"{key} must be a positive integer.", "Write e.g. 10.")
        return default
