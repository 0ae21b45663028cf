"""Older spellings of ours rewritten to the published Mozaiks shapes, each with a deprecation warning.

The published documents (module contract, capability-pack model) are the canonical shapes. A
workspace written before them still loads: every rewrite here records ``mozaiks.W005`` naming
the documented spelling, so the author can update the file at their own pace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mozaiks_core.plugins.documents import DocumentReader, deprecated

TARGET_KEYS = ("handler_method", "notification", "capability_id", "message")


def schema_version(data: Any, reader: DocumentReader, path: Path, schema_id: str) -> Any:
    """``schema: X`` → ``schema_version: X``."""
    if isinstance(data, dict) and "schema" in data and "schema_version" not in data:
        deprecated(reader, path, "schema", "'schema'", f"'schema_version: {schema_id}'")
        data = {"schema_version": data["schema"], **{k: v for k, v in data.items() if k != "schema"}}
    return data


def reactions(data: Any, reader: DocumentReader, path: Path) -> Any:
    """``{id, on, kind, handler_method}`` → ``{id, event_type, target: {kind, handler_method}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("reactions"), list):
        return data
    rewritten = []
    for index, raw in enumerate(data["reactions"]):
        if isinstance(raw, dict) and ("on" in raw or "kind" in raw) and "target" not in raw:
            deprecated(reader, path, f"reactions[{index}]", "'on' and 'kind' at the top of a reaction",
                       "'event_type: <event>' and 'target: {kind: handler, handler_method: <method>}'")
            target = {"kind": raw.get("kind")} | {key: raw[key] for key in TARGET_KEYS if key in raw}
            rest = {key: value for key, value in raw.items() if key not in {"on", "kind", *TARGET_KEYS}}
            raw = {**rest, "event_type": raw.get("on"), "target": target}
        rewritten.append(raw)
    return {**data, "reactions": rewritten}


def runtime_extensions(data: Any, reader: DocumentReader, path: Path, schema_id: str) -> Any:
    """``{api_router: X, startup_service: Y}`` → ``{schema_version, extensions: [{kind, entrypoint}]}``."""
    if not isinstance(data, dict) or "extensions" in data:
        return data
    flat = [key for key in ("api_router", "startup_service") if key in data]
    if not flat:
        return data
    deprecated(reader, path, flat[0], "the flat form 'api_router:' / 'startup_service:'",
               f"'schema_version: {schema_id}' and 'extensions: [{{kind: {flat[0]}, entrypoint: ...}}]'")
    rest = {key: value for key, value in data.items() if key not in flat}
    return {"schema_version": schema_id, **rest,
            "extensions": [{"kind": key, "entrypoint": data[key]} for key in flat]}
