"""Declarative pages: ``ui/pages/*.yaml`` rendered in the shell, forms posting to module actions.

Forms work without JavaScript: they post back to the page, the page runs the module action as
the signed-in caller (CSRF-checked by Django), shows errors next to their fields, or redirects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mozaiks_core.auth.caller import membership_for_request
from mozaiks_core.plugins.actions import ActionFailure, run_action
from mozaiks_core.plugins.markdown import render_markdown
from mozaiks_core.plugins.registry import get_workspace
from mozaiks_core.plugins.specs import PageSpec


def _caller(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {"user": None, "organization": None, "role": ""}
    membership = membership_for_request(request, request.user)
    return {"user": request.user, "organization": membership.organization if membership else None,
            "role": membership.role if membership else ""}


def form_input(block: dict[str, Any], post: Any) -> dict[str, Any]:
    """Typed action input from a posted form (numbers, checkboxes; empty optional fields left out)."""
    data: dict[str, Any] = {}
    for field in block.get("fields", []):
        name, kind = field["name"], field.get("type", "text")
        if kind == "checkbox":
            data[name] = post.get(name) == "on"
            continue
        value = post.get(name, "").strip()
        if value == "":
            continue
        if kind == "number":
            try:
                data[name] = float(value) if "." in value else int(value)
            except ValueError:
                data[name] = value  # the schema check names the field
        else:
            data[name] = value
    return {**(block["action"].get("input") or {}), **data}


def _table(block: dict[str, Any], request: HttpRequest, caller: dict[str, Any]) -> dict[str, Any]:
    source = block["source"]
    workspace = get_workspace()
    action = workspace.modules[source["module"]].actions[source["action"]]
    size = block.get("page_size", 10)
    number = int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1
    data = dict(source.get("input") or {})
    paged_by_action = {"page", "page_size"} <= set(action.input_schema.get("properties") or {})
    if paged_by_action:
        data.update(page=max(number, 1), page_size=size)
    try:
        result = run_action(source["module"], source["action"], data, **caller)
    except ActionFailure as failure:
        return {"error": failure.message}
    rows = result.get("items", []) if isinstance(result, dict) else list(result or [])
    total = result.get("total", len(rows)) if isinstance(result, dict) else len(rows)
    if paged_by_action:
        page = Paginator(range(total), size).get_page(number)
    else:
        page = Paginator(rows, size).get_page(number)
        rows = list(page.object_list)
    cells = [[row.get(column["key"], "") if isinstance(row, dict) else "" for column in block["columns"]]
             for row in rows]
    return {"rows": cells, "page": page}


def render_blocks(page: PageSpec, request: HttpRequest, caller: dict[str, Any],
                  errors: dict[int, dict[str, str]], values: dict[int, Any]) -> list[dict[str, Any]]:
    """Each block with what its template needs (markdown already rendered safely)."""
    rendered = []
    for index, block in enumerate(page.blocks):
        item: dict[str, Any] = {**block, "index": index}
        if block["type"] == "markdown":
            item["html"] = render_markdown(block["content"])
        elif block["type"] == "card":
            item["html"] = render_markdown(block.get("body", ""))
        elif block["type"] == "table":
            item.update(_table(block, request, caller))
        elif block["type"] == "form":
            item["errors"] = errors.get(index, {})
            posted = values.get(index) or {}
            item["fields"] = [{**field, "value": posted.get(field["name"], ""),
                               "error": item["errors"].get(field["name"], "")} for field in block["fields"]]
        rendered.append(item)
    return rendered


def _submit(request: HttpRequest, page: PageSpec, caller: dict[str, Any]) -> tuple[bool, dict[int, dict[str, str]]]:
    raw = request.POST.get("_block", "")
    index = int(raw) if raw.isdigit() else -1
    if not 0 <= index < len(page.blocks) or page.blocks[index]["type"] not in {"form", "action_button"}:
        raise Http404("no form at this position")
    block = page.blocks[index]
    data = form_input(block, request.POST) if block["type"] == "form" else dict(block["action"].get("input") or {})
    try:
        run_action(block["action"]["module"], block["action"]["action"], data, **caller)
    except ActionFailure as failure:
        return False, {index: {failure.field or "non_field": failure.message}}
    messages.success(request, block.get("success_message") or "Saved.")
    return True, {}


@require_http_methods(["GET", "POST"])
def page_view(request: HttpRequest, route: str) -> HttpResponse:
    """Serve the page at ``route``; POST runs the form or button at ``_block``."""
    page = get_workspace().page_for_route(route)
    if page is None:
        raise Http404(f"no page at {route}")
    if page.auth == "required" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    caller = _caller(request)
    errors: dict[int, dict[str, str]] = {}
    values: dict[int, Any] = {}
    status = 200
    if request.method == "POST":
        saved, errors = _submit(request, page, caller)
        if saved:
            return redirect(request.path)
        values = {index: request.POST for index in errors}
        status = 422
    blocks = render_blocks(page, request, caller, errors, values)
    return render(request, "mozaiks/page.html", {"page": page, "blocks": blocks}, status=status)
