"""Reading YAML/JSON manifests and validating them, turning every defect into a precise ``Problem``."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

from mozaiks_core.parsing import DocumentTooComplex, load_yaml, loads_json
from mozaiks_core.validation import ERROR, WARNING, Problem

SYNTAX = "mozaiks.E001"


class ManifestLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.2 booleans: only true/false, so a reaction's ``on:`` key stays the string "on"."""


ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ManifestLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SCHEMA = "mozaiks.E002"
UNKNOWN_KEY = "mozaiks.W004"
DEPRECATED = "mozaiks.W005"


def _unknown_keys(error: Any) -> list[str]:
    """The keys an ``additionalProperties: false`` violation is about (empty for any other error)."""
    if error.validator != "additionalProperties" or error.validator_value is not False:
        return []
    if not isinstance(error.instance, dict):
        return []
    known = set(error.schema.get("properties") or {})
    patterns = [re.compile(pattern) for pattern in error.schema.get("patternProperties") or {}]
    return [key for key in error.instance if key not in known and not any(p.search(key) for p in patterns)]


def key_path(parts: Iterable[Any]) -> str:
    """``['actions', 0, 'id']`` → ``actions[0].id`` (the notation every problem uses)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class DocumentReader:
    """Reads manifests relative to a display root and collects problems instead of raising."""

    def __init__(self, display_root: Path, problems: list[Problem]) -> None:
        self.display_root = display_root
        self.problems = problems

    def name(self, path: Path) -> str:
        """The file name shown in problems: relative to the workspace when inside it."""
        try:
            return str(path.relative_to(self.display_root))
        except ValueError:
            return str(path)

    def add(self, level: str, code: str, path: Path | str, key: str, message: str, hint: str = "") -> None:
        """Record one problem."""
        file = self.name(path) if isinstance(path, Path) else path
        self.problems.append(Problem(level=level, code=code, file=file, path=key, message=message, hint=hint))

    def read(self, path: Path) -> Any | None:
        """Parse ``path`` (YAML or JSON by extension); None (and an E001 problem) when it is broken."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.add(ERROR, SYNTAX, path, "", f"cannot be read: {exc}", "check the file exists and is UTF-8 text")
            return None
        try:
            if path.suffix == ".json":
                return loads_json(text, self.name(path))
            return load_yaml(text, ManifestLoader, self.name(path))
        except DocumentTooComplex as exc:
            self.add(ERROR, SYNTAX, path, "", exc.message, "split or flatten the file")
            return None
        except json.JSONDecodeError as exc:
            self.add(ERROR, SYNTAX, path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}",
                     "fix the JSON syntax (a trailing comma or a missing quote is the usual cause)")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
            reason = getattr(exc, "problem", None) or str(exc)
            self.add(ERROR, SYNTAX, path, where, f"invalid YAML: {reason}",
                     "fix the YAML syntax (indentation and unquoted ':' are the usual causes)")
            return None

    def validate(self, data: Any, schema: dict[str, Any], path: Path, *, level: str = ERROR,
                 prefix: tuple[Any, ...] = ()) -> bool:
        """Check ``data`` against ``schema``; each violation becomes a problem at its key path.

        A key the schema does not know is a warning (``mozaiks.W004``) naming the key path: the
        rest of the document still loads, and the key is ignored.
        """
        validator = Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(data), key=lambda error: list(map(str, error.absolute_path)))
        failed = False
        for error in errors:
            unknown = _unknown_keys(error)
            if unknown:
                for key in unknown:
                    known = ", ".join(sorted(error.schema.get("properties") or {}))
                    self.add(WARNING, UNKNOWN_KEY, path, key_path([*prefix, *error.absolute_path, key]),
                             f"unknown key '{key}' is ignored", f"remove it or fix its spelling (known keys: {known})")
                continue
            failed = True
            self.add(level, SCHEMA if level == ERROR else UNKNOWN_KEY, path,
                     key_path([*prefix, *error.absolute_path]), error.message,
                     "see docs/plugins.md for the manifest format")
        return not failed

    def check_json_schema(self, schema: Any, path: Path, where: tuple[Any, ...]) -> bool:
        """A declared ``input_schema``/``payload_schema`` must itself be a valid JSON Schema."""
        error = _schema_error(json.dumps(schema, sort_keys=True, default=str))
        if error is None:
            return True
        self.add(ERROR, SCHEMA, path, key_path([*where, *error.absolute_path]),
                 f"is not a valid JSON Schema: {error.message}", "fix the schema (JSON Schema 2020-12)")
        return False


_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA)


@functools.lru_cache(maxsize=2048)
def _schema_error(schema_json: str) -> SchemaError | None:
    """The first metaschema violation of a schema (cached: workspaces repeat the same small schemas)."""
    error = best_match(_META_VALIDATOR.iter_errors(json.loads(schema_json)))
    return SchemaError.create_from(error) if error is not None else None


def deprecated(reader: DocumentReader, path: Path, key: str, old: str, documented: str) -> None:
    """A spelling of ours that still loads, with the documented spelling to write instead."""
    reader.add(WARNING, DEPRECATED, path, key, f"{old} is deprecated",
               f"write {documented} (the published Mozaiks spelling); the old form still loads")


def warn(reader: DocumentReader, code: str, path: Path | str, key: str, message: str, hint: str = "") -> None:
    """Shorthand for a warning (the item still loads)."""
    reader.add(WARNING, code, path, key, message, hint)
