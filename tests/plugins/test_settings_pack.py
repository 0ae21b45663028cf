"""The settings pack: preferences modules declare for users and organizations, through the API and the page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.plugins.context import ModuleContext
from mozaiks_core.plugins.registry import get_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Any:
    return get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/modules/settings/{action}", data=json.dumps(body), content_type="application/json")


def test_a_user_setting_is_listed_changed_and_reaches_the_module_context(owner: Any) -> None:
    client = signed_in(owner)
    listed = post(client, "list_settings", {}).json()["result"]["items"]
    page_size = next(item for item in listed if (item["module"], item["key"]) == ("tasks", "list_page_size"))
    assert (page_size["scope"], page_size["value"], page_size["label"]) == ("user", 10, "Tasks per page")
    assert all(item["key"] != "max_open_tasks" for item in listed)  # deployment settings are not preferences

    changed = post(client, "set_setting", {"module": "tasks", "key": "list_page_size", "value": "25"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["result"] == {"module": "tasks", "key": "list_page_size", "value": 25, "scope": "user"}
    organization = ensure_personal_organization(owner)
    context = ModuleContext(module=get_workspace().modules["tasks"], user=owner, organization=organization)
    assert context.settings["list_page_size"] == 25
    assert context.settings["max_open_tasks"] == 500

    colleague = get_user_model().objects.create_user(username="bob", email="bob@example.com", password="pw-1234567")
    Membership.objects.create(user=colleague, organization=organization, role="member")
    other = ModuleContext(module=get_workspace().modules["tasks"], user=colleague, organization=organization)
    assert other.settings["list_page_size"] == 10  # a user setting is the user's own


def test_wrong_values_unknown_settings_and_deployment_settings_are_refused_with_the_reason(owner: Any) -> None:
    client = signed_in(owner)
    wrong = post(client, "set_setting", {"module": "tasks", "key": "list_page_size", "value": "many"})
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "value"
    unknown = post(client, "set_setting", {"module": "tasks", "key": "max_open_tasks", "value": 5})
    assert unknown.status_code == 404
    assert "'tasks.max_open_tasks' is not a user or organization setting" in unknown.json()["message"]


def test_the_settings_page_lists_the_preferences_and_saves_a_form_post(owner: Any) -> None:
    client = signed_in(owner)
    page = client.get("/settings")
    assert page.status_code == 200
    assert b"Tasks per page" in page.content
    saved = client.post("/settings", {"_block": "1", "module": "tasks", "key": "list_page_size", "value": "30"})
    assert saved.status_code in (200, 302)
    listed = post(client, "list_settings", {}).json()["result"]["items"]
    assert next(item["value"] for item in listed if item["key"] == "list_page_size") == 30


def test_an_organization_setting_is_changed_by_owners_and_admins_only_and_applies_to_everyone(owner: Any) -> None:
    organization = ensure_personal_organization(owner)
    member = get_user_model().objects.create_user(username="bob", email="bob@example.com", password="pw-1234567")
    Membership.objects.create(user=member, organization=organization, role="member")
    body = {"module": "tasks", "key": "week_starts_on", "value": "sunday"}
    owner_client = signed_in(owner)
    assert post(owner_client, "set_setting", body).status_code == 200
    context = ModuleContext(module=get_workspace().modules["tasks"], user=member, organization=organization,
                            role="member")
    assert context.settings["week_starts_on"] == "sunday"
    from mozaiks_core.packs.settings.services import set_value
    from mozaiks_core.plugins.context import ModuleActionError

    with pytest.raises(ModuleActionError) as denied:
        set_value(module_id="tasks", key="week_starts_on", value="friday", user=member, organization=organization,
                  role="member")
    assert denied.value.status == 403
    assert "owners and admins change it; your role is 'member'" in denied.value.message
