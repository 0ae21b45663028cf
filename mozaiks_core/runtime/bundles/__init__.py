"""Workflow bundles (the MozaiksAI declarative format): reading, validation and the registry.

Owns every file of a bundle, the scripted model's script file included. Imports nothing else of
the runtime. Public API: :func:`get_registry` (``.bundles``, ``.errors``, ``.problems``) and the
typed models in :mod:`.models`.
"""

from mozaiks_core.runtime.bundles.models import WorkflowBundle
from mozaiks_core.runtime.bundles.registry import WorkflowRegistry, get_registry, load_registry

__all__ = ["WorkflowBundle", "WorkflowRegistry", "get_registry", "load_registry"]
