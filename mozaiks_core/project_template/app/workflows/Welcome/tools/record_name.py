"""Agent tool of the Welcome workflow: remember the user's name."""

from typing import Any


def record_name(name: str, context_variables: Any = None) -> str:
    """Store ``name`` and mark the welcome as complete."""
    if context_variables is not None:
        context_variables["user_name"] = name
        context_variables["welcome_complete"] = True
    return f"Recorded the name {name}."
