"""Module actions through the API: input validation, gates, declared errors, handler failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization, ensure_personal_organization
from mozaiks_core.entitlements.services import Decision
from mozaiks_core.plugins import actions
from mozaiks_core.plugins.actions import ActionFailure, check_gates
from mozaiks_core.plugins.registry import get_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def member() -> Any:
    return get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")


@pytest.fixture
def client(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_the_demo_module_is_a_django_app_whose_migration_ran_in_the_test_database(member: Any) -> None:
    from mozaiks_modules.tasks.models import Task

    assert MigrationRecorder.Migration.objects.filter(app="tasks", name="0001_initial").exists()
    task = Task.objects.create(organization=ensure_personal_organization(member), title="Migrated")
    assert Task.objects.get(pk=task.pk).title == "Migrated"


def test_a_valid_mutation_runs_the_handler_and_a_query_returns_the_result(client: Client) -> None:
    created = post(client, "/api/modules/tasks/create_task", {"title": "Write the docs"})
    assert created.status_code == 200, created.content
    assert created.json()["result"]["title"] == "Write the docs"
    listed = client.get("/api/modules/tasks/list_tasks?page=1&page_size=5")
    assert listed.status_code == 200
    assert [row["title"] for row in listed.json()["result"]["items"]] == ["Write the docs"]


@pytest.mark.parametrize(("body", "field", "fragment"), [
    ({}, "title", "'title' is a required property"),
    ({"title": "ab"}, "title", "too short"),
    ({"title": 7}, "title", "not of type 'string'"),
    ({"title": "fine", "colour": "red"}, "colour", "Additional properties"),
])
def test_invalid_input_is_refused_with_a_422_naming_the_field(client: Client, body: dict[str, Any], field: str,
                                                              fragment: str) -> None:
    response = post(client, "/api/modules/tasks/create_task", body)
    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_INPUT"
    assert response.json()["field"] == field
    assert fragment in response.json()["message"]


def test_a_body_that_is_not_json_gets_a_structured_400(client: Client) -> None:
    response = client.post("/api/modules/tasks/create_task", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_JSON"


def test_anonymous_callers_are_refused(db: None) -> None:
    assert Client().get("/api/modules/tasks/list_tasks").status_code == 401


def test_the_permission_gate_refuses_a_member_an_admin_only_action(client: Client, member: Any) -> None:
    owner = get_user_model().objects.create_user(username="bo", email="bo@example.com", password="pw-123456789")
    team = create_organization(name="Team", owner=owner)
    Membership.objects.create(user=member, organization=team, role=Membership.Role.MEMBER)
    response = client.get("/api/modules/audit/activity", HTTP_X_MOZAIKS_ORGANIZATION=team.slug)
    assert response.status_code == 403
    assert response.json()["error"] == "PERMISSION_DENIED"
    assert "audit.view" in response.json()["message"]


def test_the_entitlement_gate_fails_closed_and_opens_when_granted(member: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    module = get_workspace().modules["tasks"]
    action = replace(module.actions["list_tasks"], entitlement_gate="tasks.export")
    organization = ensure_personal_organization(member)
    with pytest.raises(ActionFailure) as denied:
        check_gates(module, action, user=member, organization=organization, role="owner")
    assert (denied.value.status, denied.value.body["error"], denied.value.body["key"]) == (
        403, "ENTITLEMENT_REQUIRED", "tasks.export")
    monkeypatch.setattr(actions, "decide", lambda subject, key: Decision(True, "PLAN", key))
    check_gates(module, action, user=member, organization=organization, role="owner")


def test_a_declared_handler_error_is_structured_and_never_a_500(client: Client, settings: Any) -> None:
    settings.MOZAIKS_PLUGINS_CONFIG = {"tasks": {"max_open_tasks": 0}}
    response = post(client, "/api/modules/tasks/create_task", {"title": "One too many"})
    assert response.status_code == 409
    assert response.json() == {"error": "TOO_MANY_OPEN_TASKS", "field": "title",
                               "message": "close some tasks first: the limit is 0 open tasks"}


def test_a_handler_that_raises_gets_a_structured_500_with_an_error_id(client: Client,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_modules.tasks.backend.handler import TasksHandler

    def explode(self: Any, ctx: Any, data: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(TasksHandler, "list_tasks", explode)
    response = client.get("/api/modules/tasks/list_tasks")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "HANDLER_FAILED"
    assert "'tasks.list_tasks' failed" in body["message"]
    assert body["error_id"] in body["message"]


def test_unknown_modules_and_actions_are_404s_in_the_action_runner(member: Any) -> None:
    with pytest.raises(ActionFailure) as missing:
        actions.run_action("tasks", "explode", {}, user=member, organization=None)
    assert missing.value.status == 404
    assert missing.value.body["actions"] == ["complete_task", "create_task", "list_tasks"]


def test_navigation_and_theme_config_serve_the_shell_to_javascript(client: Client) -> None:
    navigation = client.get("/api/navigation").json()["items"]
    assert [item["label"] for item in navigation][:3] == ["Home", "Tasks", "Chat"]
    assert {"label": "Activity", "href": "/activity/", "icon": ""} in navigation
    theme = Client().get("/api/theme-config").json()
    assert theme["css_variables"]["--mz-primary"] == "#3b5bdb"
    assert theme["logo_url"] == "/brand/assets/logo.svg"
    assert Client().get(theme["logo_url"]).status_code == 200
    assert Client().get("/brand/assets/../app.json").status_code == 404


def test_output_breaking_its_schema_is_reported_in_debug(client: Client, settings: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_modules.tasks.backend.handler import TasksHandler

    settings.DEBUG = True
    monkeypatch.setattr(TasksHandler, "list_tasks", lambda self, ctx, data: {"items": []})
    response = client.get("/api/modules/tasks/list_tasks")
    assert response.status_code == 500
    assert response.json()["error"] == "INVALID_OUTPUT"
    assert "'total' is a required property" in response.json()["message"]


def test_session_calls_to_mutations_need_the_csrf_token(member: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    refused = client.post("/api/modules/tasks/create_task", data='{"title": "No token"}',
                          content_type="application/json")
    assert refused.status_code in {401, 403}
    client.get("/tasks")
    accepted = client.post("/api/modules/tasks/create_task", data='{"title": "With token"}',
                           content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert accepted.status_code == 200


def test_requests_never_rescan_the_workspace(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_core.plugins import bootstrap

    def no_disk(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the workspace was read again during a request")

    monkeypatch.setattr(bootstrap, "load_workspace", no_disk)
    for path in ["/", "/tasks", "/api/navigation", "/api/theme-config", "/api/modules/tasks/list_tasks"]:
        assert client.get(path).status_code == 200, path


def test_module_actions_are_rate_limited_per_user(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import cache

    from mozaiks_core.plugins.api import ACTION_THROTTLE

    cache.clear()
    monkeypatch.setattr(ACTION_THROTTLE, "num_requests", 2)
    statuses = [client.get("/api/modules/tasks/list_tasks").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    cache.clear()


def test_a_workflow_reaction_starts_a_run_through_the_runtime_starter(member: Any, settings: Any) -> None:
    from mozaiks_core.plugins import delivery
    from mozaiks_core.plugins.specs import ReactionSpec

    settings.MOZAIKS_WORKFLOW_RUN_STARTER = f"{__name__}.record_run"
    started_runs.clear()
    organization = ensure_personal_organization(member)
    reaction = ReactionSpec(module_id="tasks", id="summarise", on="domain.tasks.task_created", kind="workflow",
                            capability_id="Summariser", message="Summarise the new task")
    envelope = {"event_id": "e1", "event_type": "domain.tasks.task_created", "organization_id": organization.pk,
                "actor": {"type": "user", "id": member.pk}}
    delivery.run_reaction(reaction, envelope)
    assert started_runs == [{"capability_id": "Summariser", "organization": organization, "user": member,
                        "initial_message": "Summarise the new task", "context": {"event": envelope}}]


started_runs: list[dict[str, Any]] = []


def record_run(**kwargs: Any) -> None:
    """Stands in for mozaiks_core.runtime.services.start_background_run."""
    started_runs.append(kwargs)


def test_the_openapi_document_lists_every_module_action_with_its_input_schema(db: None) -> None:
    document = Client().get("/api/openapi.json").json()
    create = document["paths"]["/api/modules/tasks/create_task"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == ["title"]
    assert "get" in document["paths"]["/api/modules/tasks/list_tasks"]
    assert "/api/modules/tasks/export.csv" in document["paths"]


def test_an_action_that_declares_a_counted_limit_is_refused_at_the_limit_and_decide_counts_its_rows(
        client: Client, member: Any) -> None:
    from mozaiks_core.auth.models import Organization
    from mozaiks_core.entitlements.models import EntitlementOverride
    from mozaiks_core.entitlements.services import decide

    organization = ensure_personal_organization(member)
    EntitlementOverride.objects.create(organization=organization, key="open_tasks", limit=2)
    for title in ("first task", "second task"):
        assert post(client, "/api/modules/tasks/create_task", {"title": title}).status_code == 200
    refused = post(client, "/api/modules/tasks/create_task", {"title": "third task"})
    assert refused.status_code == 402, refused.content
    body = refused.json()
    assert (body["error"], body["key"], body["limit"], body["used"]) == ("LIMIT_EXCEEDED", "open_tasks", 2, 2)
    assert "2 of 2 open tasks used" in body["message"]
    decision = decide(Organization.objects.get(pk=organization.pk), "open_tasks")
    assert (decision.granted, decision.used, decision.limit) == (False, 2, 2)

    task_id = client.get("/api/modules/tasks/list_tasks").json()["result"]["items"][0]["id"]
    assert post(client, "/api/modules/tasks/complete_task", {"task_id": task_id}).status_code == 200
    assert post(client, "/api/modules/tasks/create_task", {"title": "third task"}).status_code == 200
