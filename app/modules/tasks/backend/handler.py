"""Handler of the tasks module: each method is one action of module.yaml."""

from __future__ import annotations

from typing import Any

from mozaiks_core.plugins.context import ModuleActionError, ModuleContext

from ..models import Task


def as_row(task: Task) -> dict[str, Any]:
    """A task as actions return it (table columns use these keys)."""
    return {"id": task.pk, "title": task.title, "notes": task.notes, "status": "done" if task.done else "open",
            "created_at": task.created_at.strftime("%Y-%m-%d %H:%M")}


class TasksHandler:
    """List, add and complete the caller organization's tasks."""

    def list_tasks(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """One page of tasks, open first."""
        tasks = Task.objects.filter(organization=ctx.organization)
        if "done" in data:
            tasks = tasks.filter(done=data["done"])
        page, size = data.get("page", 1), data.get("page_size", 20)
        return {"items": [as_row(task) for task in tasks[(page - 1) * size: page * size]], "total": tasks.count()}

    def create_task(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Add a task and tell the organization (``domain.tasks.task_created``)."""
        limit = int(ctx.settings["max_open_tasks"])
        if Task.objects.filter(organization=ctx.organization, done=False).count() >= limit:
            raise ModuleActionError("TOO_MANY_OPEN_TASKS", f"close some tasks first: the limit is {limit} open tasks",
                                    field="title", status=409)
        task = Task.objects.create(organization=ctx.organization, title=data["title"], notes=data.get("notes", ""),
                                   created_by=ctx.user)
        ctx.publish("task_created", {"task_id": task.pk, "title": task.title}, subject=task)
        return as_row(task)

    def complete_task(self, ctx: ModuleContext, data: dict[str, Any]) -> dict[str, Any]:
        """Mark a task done (``domain.tasks.task_completed``)."""
        task = Task.objects.filter(organization=ctx.organization, pk=data["task_id"]).first()
        if task is None:
            raise ModuleActionError("TASK_NOT_FOUND", f"no task {data['task_id']} in this organization",
                                    field="task_id", status=404)
        if not task.done:
            task.done = True
            task.save(update_fields=["done"])
            ctx.publish("task_completed", {"task_id": task.pk, "title": task.title}, subject=task)
        return as_row(task)
