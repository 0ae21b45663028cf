"""Structured outputs: the bundle's declared models as pydantic classes used as AG2 response formats."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from mozaiks_core.runtime.bundles.models import StructuredField, StructuredModel, WorkflowBundle

_SCALARS: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict[str, Any], "any": Any}


class _Builder:
    def __init__(self, models: dict[str, StructuredModel]) -> None:
        self.models = models
        self.built: dict[str, Any] = {}

    def type_of(self, type_name: str, items: str | None = None) -> Any:
        if type_name.startswith("optional_"):
            return self.type_of(type_name.removeprefix("optional_"), items) | None
        if type_name == "list":
            return list[self.type_of(items or "str")]  # type: ignore[misc]
        if type_name in _SCALARS:
            return _SCALARS[type_name]
        return self.named(type_name)

    def named(self, name: str) -> Any:
        if name in self.built:
            return self.built[name]
        spec = self.models[name]
        if spec.kind == "literal":
            built: Any = Literal[tuple(spec.values)]  # type: ignore[valid-type]
        elif spec.kind == "union":
            built = Union[tuple(self.named(variant) for variant in spec.variants)]  # noqa: UP007
        else:
            built = create_model(name, __base__=BaseModel, **{f.name: self.field(f) for f in spec.fields})
        self.built[name] = built
        return built

    def field(self, spec: StructuredField) -> tuple[Any, Any]:
        annotation = self.type_of(spec.type, spec.items)
        if spec.type == "literal":
            annotation = Literal[tuple(spec.values)]  # type: ignore[valid-type]
        if spec.has_default or spec.type.startswith("optional_"):
            return annotation, Field(default=spec.default, description=spec.description)
        return annotation, Field(description=spec.description)


def response_format_for(bundle: WorkflowBundle, agent: str) -> type[BaseModel] | None:
    """The pydantic response format of ``agent`` (``None`` when the registry maps it to nothing)."""
    model = bundle.structured_registry.get(agent)
    if model is None:
        return None
    return _Builder(bundle.structured_models).named(model)  # built per run: bundles reload in DEBUG
