"""Which model answers an agent: the ``scripted`` model or ``openai`` (OpenAI or any compatible server).

``llm_config_for`` gives the AG2 ``llm_config`` dict of one agent; the engine passes it to AG2
unchanged. The model is ``orchestrator.yaml``'s ``model`` / ``llm_config.model``, else
``MOZAIKS_LLM_MODEL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.llm.scripted import (
    SCRIPTED_MODEL_NAME,
    Script,
    ScriptedModelClient,
    ScriptInvalid,
    plan_for_data,
    plan_for_file,
)

PASSTHROUGH_KEYS = ("temperature", "top_p", "max_tokens", "seed", "timeout", "presence_penalty", "frequency_penalty")


def provider() -> str:
    """The configured provider: ``scripted`` or ``openai``."""
    return str(getattr(settings, "MOZAIKS_LLM_PROVIDER", "scripted"))


def model_name(bundle: WorkflowBundle) -> str:
    """The model of ``bundle``'s runs (what usage records name)."""
    if provider() == "scripted":
        return SCRIPTED_MODEL_NAME
    return bundle.orchestrator.model or str(settings.MOZAIKS_LLM_MODEL)


def script_for(bundle: WorkflowBundle) -> Script:
    """A fresh script for one run: ``MOZAIKS_LLM_SCRIPT`` else the bundle's ``scripted_model.yaml``."""
    path = getattr(settings, "MOZAIKS_LLM_SCRIPT", "")
    if path:
        return Script(plan_for_file(Path(path)))
    if bundle.script is None:
        raise ScriptInvalid(
            f"workflow {bundle.name!r} has no scripted_model.yaml and MOZAIKS_LLM_SCRIPT is not set; "
            "add a script or set MOZAIKS_LLM_PROVIDER=openai with a model."
        )
    return Script(plan_for_data(bundle.script))


def llm_config_for(bundle: WorkflowBundle, *, response_format: Any = None, stream: bool = False) -> dict[str, Any]:
    """The AG2 ``llm_config`` dict of an agent of ``bundle`` (``cache_seed`` off: every call is real)."""
    if provider() == "scripted":
        entry: dict[str, Any] = {"model": SCRIPTED_MODEL_NAME, "model_client_cls": ScriptedModelClient.__name__}
    else:
        # A price stops AG2 from looking the model up in its own price list (and warning "Model ... is
        # not found. The cost will be 0" twice per call); costs come from the workspace's price table.
        entry = {"model": model_name(bundle), "api_key": settings.OPENAI_API_KEY or "not-needed", "api_type": "openai",
                 "price": [0.0, 0.0]}
        if settings.MOZAIKS_LLM_BASE_URL:
            entry["base_url"] = settings.MOZAIKS_LLM_BASE_URL
        if stream and response_format is None:
            entry["stream"] = True
    config: dict[str, Any] = {"config_list": [entry], "cache_seed": None}
    if provider() != "scripted":
        config["timeout"] = float(getattr(settings, "MOZAIKS_LLM_TIMEOUT_SECONDS", 60.0))
    for key in PASSTHROUGH_KEYS:
        if key in bundle.orchestrator.llm_config:
            config[key] = bundle.orchestrator.llm_config[key]
    if response_format is not None:
        config["response_format"] = response_format
    return config
