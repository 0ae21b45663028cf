"""Org-scoping factories of the tasks module's actions (see mozaiks_core/plugins/api_scopes.py).

Each builds a task of organization A; its title is the marker only A's answers may contain.
"""

from __future__ import annotations

import uuid
from typing import Any

from mozaiks_core.auth.scoping import ScopedCall

from .models import Task


def _task(organization: Any, owner: Any) -> Task:
    return Task.objects.create(organization=organization, title=f"Scoped task {uuid.uuid4().hex[:10]}",
                               created_by=owner)


def listed_task(organization: Any, owner: Any) -> ScopedCall:
    """A task of org A: the list shows it."""
    return ScopedCall(marker=_task(organization, owner).title)


def new_task(organization: Any, owner: Any) -> ScopedCall:
    """A task to add (the answer echoes the input, so there is no marker to hide)."""
    return ScopedCall(json={"title": f"New task {uuid.uuid4().hex[:10]}"})


def open_task(organization: Any, owner: Any) -> ScopedCall:
    """An open task of org A to complete by id: another organization cannot reach it."""
    task = _task(organization, owner)
    return ScopedCall(json={"task_id": task.pk}, marker=task.title)


SCOPE_FACTORIES = {"list_tasks": listed_task, "create_task": new_task, "complete_task": open_task}
