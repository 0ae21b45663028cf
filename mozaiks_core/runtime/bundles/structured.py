"""``structured_outputs.yaml``: named output models and the agent → model registry."""

from __future__ import annotations

from typing import Any

from mozaiks_core.runtime.bundles.models import AgentSpec, StructuredField, StructuredModel
from mozaiks_core.runtime.bundles.reader import ProblemCollector

FILE = "structured_outputs.yaml"
SCALAR_TYPES = {"str", "int", "float", "bool", "dict", "any", "list", "literal", "union"}


def _known_type(type_name: str, models: dict[str, Any]) -> bool:
    base = type_name.removeprefix("optional_")
    return base in SCALAR_TYPES or base in models or type_name in models


def read_structured_outputs(
    problems: ProblemCollector, agents: dict[str, AgentSpec]
) -> tuple[dict[str, StructuredModel], dict[str, str]]:
    """The models and the registry (agent → model name) of the bundle."""
    data = problems.mapping(FILE, problems.read(FILE))
    nested = problems.mapping(FILE, data.get("structured_outputs"), "structured_outputs")
    problems.unknown_keys(FILE, data, {"structured_outputs", "registry", "models"})
    raw_models = problems.mapping(FILE, nested.get("models", data.get("models")), "structured_outputs.models")
    raw_registry = nested.get("registry")
    registry_path = "structured_outputs.registry"
    if "registry" in data:
        problems.warn("structured.top_level_registry", FILE, "registry",
                      "registry is at the top level; it is used, but the format places it under structured_outputs.",
                      "Move registry: under structured_outputs:.")
        if raw_registry is None:
            raw_registry, registry_path = data["registry"], "registry"
    models: dict[str, StructuredModel] = {}
    for name, spec in raw_models.items():
        spec = problems.mapping(FILE, spec, f"structured_outputs.models.{name}")
        models[str(name)] = _model(problems, str(name), spec)
    for model in models.values():
        for item in model.fields:
            for type_name in (item.type, item.items or "str"):
                if not _known_type(type_name, models):
                    problems.error("structured.unknown_type", FILE,
                                   f"structured_outputs.models.{model.name}.fields.{item.name}",
                                   f"unknown field type {type_name!r}.",
                                   f"Use str, int, float, bool, list, dict, optional_<type> or a model name "
                                   f"({', '.join(models)}).")
    registry: dict[str, str] = {}
    for agent, model_name in problems.mapping(FILE, raw_registry, registry_path).items():
        if model_name is None:
            continue
        where = f"{registry_path}.{agent}"
        if agent not in agents:
            problems.warn("structured.unknown_agent", FILE, where,
                          f"registry names agent {agent!r}, which agents.yaml does not declare; it is ignored.",
                          f"Use one of: {', '.join(agents)}.")
        elif str(model_name) not in models or models[str(model_name)].kind != "model":
            problems.error("structured.unknown_model", FILE, where,
                           f"agent {agent!r} is mapped to unknown model {model_name!r}.",
                           f"Define it under structured_outputs.models or use one of: {', '.join(models)}.")
        else:
            registry[agent] = str(model_name)
    return models, registry


def _model(problems: ProblemCollector, name: str, spec: dict[str, Any]) -> StructuredModel:
    where = f"structured_outputs.models.{name}"
    kind = str(spec.get("type") or "model")
    if kind not in ("model", "literal", "union"):
        problems.error("structured.unknown_kind", FILE, f"{where}.type", f"unknown definition type {kind!r}.",
                       "Use model, literal or union.")
    fields = []
    for field_name, raw in problems.mapping(FILE, spec.get("fields"), f"{where}.fields").items():
        raw = problems.mapping(FILE, raw, f"{where}.fields.{field_name}")
        fields.append(StructuredField(
            name=str(field_name), type=str(raw.get("type") or "str"),
            description=str(raw.get("description") or ""), items=raw.get("items"),
            values=tuple(raw.get("values") or ()), default=raw.get("default"), has_default="default" in raw,
        ))
    if kind == "model" and not fields:
        problems.error("structured.no_fields", FILE, f"{where}.fields", f"model {name!r} has no fields.",
                       "Declare at least one field with a type.")
    return StructuredModel(
        name=name, kind=kind, fields=tuple(fields), values=tuple(spec.get("values") or ()),
        variants=tuple(spec.get("variants") or ()), description=str(spec.get("description") or ""),
    )
