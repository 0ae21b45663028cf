"""Extra API of the tasks module (mounted at /api/modules/tasks/ by runtime_extensions.yaml)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from mozaiks_core.auth.caller import get_caller
from mozaiks_core.auth.scoping import org_scoped
from mozaiks_core.auth.security import api_auth
from mozaiks_core.csv_export import csv_text

from ..api_scopes import listed_task
from ..models import Task

router = Router(tags=["module: tasks"])


@router.get("/export.csv", auth=api_auth, summary="The organization's tasks as CSV")
@org_scoped(listed_task)  # the CSV lists the caller's organization's tasks: org A's title is the marker
def export_csv(request: HttpRequest) -> HttpResponse:
    """Download every task of the caller's organization (titles cannot run as spreadsheet formulas)."""
    caller = get_caller(request)
    tasks = Task.objects.filter(organization=caller.organization).order_by("pk")
    rows = ([task.pk, task.title, task.done, task.created_at.isoformat()] for task in tasks)
    response = HttpResponse(csv_text(["id", "title", "done", "created_at"], rows), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="tasks.csv"'
    return response
