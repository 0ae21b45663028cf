"""The workflow engine: runs a :class:`WorkflowBundle` on AG2 (the only package importing ``autogen``).

Owns agents, patterns, tools, UI tools and the :class:`~.hooks.RunHooks` interface a run implements.
May import ``bundles/`` and ``llm/``; never ``runs/``, ``transport/`` or the app's face.
Public API: :func:`run_workflow` and, for tool code, :func:`use_ui_tool` / :class:`UIToolError`.
"""

from mozaiks_core.runtime.engine.runner import run_workflow
from mozaiks_core.runtime.engine.ui_tools import UIToolError, use_ui_tool

__all__ = ["UIToolError", "run_workflow", "use_ui_tool"]
