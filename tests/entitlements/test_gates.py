"""Gates: view decorator, django-ninja operations, the template tag and the consumer helper."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest, JsonResponse
from django.template import Context, Template
from django.test import RequestFactory
from ninja import Router
from ninja.testing import TestClient

from mozaiks_core.auth.security import api_auth
from mozaiks_core.billing.models import Plan
from mozaiks_core.billing.services import change_plan
from mozaiks_core.entitlements.gates import consumer_check, entitlement_required, require_entitlement
from mozaiks_core.entitlements.services import denial_body
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")


@require_entitlement("export_chats")
def export_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"exported": True})


@require_entitlement("chat")
def chat_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def _request(user):
    request = RequestFactory().get("/export")
    request.user = user
    request.session = {}
    return request


def test_the_view_decorator_answers_a_denial_with_the_structured_402(db) -> None:
    user, _ = make_member("gate@example.com")
    response = export_view(_request(user))
    assert response.status_code == 402
    body = json.loads(response.content)
    assert body["error"] == "ENTITLEMENT_REQUIRED"
    assert body["key"] == "export_chats"
    assert body["upgrade_url"] == "/billing/pricing/?key=export_chats"
    assert chat_view(_request(user)).status_code == 200


def test_an_anonymous_request_is_refused_with_403(db) -> None:
    from django.contrib.auth.models import AnonymousUser

    response = chat_view(_request(AnonymousUser()))
    assert response.status_code == 403


def test_a_used_up_meter_answers_limit_exceeded(db) -> None:
    from mozaiks_core.entitlements.metering import consume
    from mozaiks_core.entitlements.services import decide

    _user, org = make_member("limit@example.com")
    consume(org, "workflow_runs_monthly", 3, "all-runs")
    body = denial_body(decide(org, "workflow_runs_monthly"))
    assert (body["error"], body["limit"], body["used"], body["remaining"]) == ("LIMIT_EXCEEDED", 3, 3, 0)
    assert body["resets_at"]


def test_a_django_ninja_operation_is_gated_by_the_decorator(db) -> None:
    router = Router()

    @router.get("/export", auth=api_auth)
    @entitlement_required("export_chats")
    def export(request: HttpRequest) -> dict[str, bool]:
        return {"exported": True}

    user, org = make_member("ninja@example.com")
    client = TestClient(router)
    response = client.get("/export", user=user)
    assert response.status_code == 402
    assert response.json()["key"] == "export_chats"
    change_plan(org, Plan.objects.get(plan_id="team"))
    response = client.get("/export", user=user)
    assert (response.status_code, response.json()) == (200, {"exported": True})


def test_the_template_tag_shows_content_only_to_entitled_organizations(db) -> None:
    user, _ = make_member("tpl@example.com")
    template = Template('{% load entitlements %}{% entitled "export_chats" as can %}{% entitled "chat" as chat %}'
                        "{{ can }}/{{ chat }}")
    assert template.render(Context({"request": _request(user)})) == "False/True"


def test_the_consumer_helper_decides_for_the_scopes_organization_with_fresh_rules(db) -> None:
    from mozaiks_core.entitlements.models import EntitlementOverride

    _, org = make_member("ws@example.com")
    scope = {"organization": org}
    assert async_to_sync(consumer_check)(scope, "chat").granted
    EntitlementOverride.objects.create(organization=org, key="chat", granted=False)  # revoked mid-connection
    assert not async_to_sync(consumer_check)(scope, "chat").granted
    denied = async_to_sync(consumer_check)({}, "chat")
    assert denied.reason == "NO_ORGANIZATION"


def test_a_gated_api_call_costs_at_most_two_queries_more_than_an_ungated_one(db) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    router = Router()

    @router.get("/plain", auth=api_auth)
    def plain(request: HttpRequest) -> dict[str, bool]:
        return {"ok": True}

    @router.get("/metered", auth=api_auth)
    @entitlement_required("tokens_monthly")
    @entitlement_required("chat")
    def metered(request: HttpRequest) -> dict[str, bool]:
        return {"ok": True}

    user, _ = make_member("queries@example.com")
    client = TestClient(router)
    client.get("/metered", user=user)  # the plan index is cached across requests
    counts = {}
    for path in ["/plain", "/metered"]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, user=user).status_code == 200
        counts[path] = len(queries)
    assert counts["/metered"] - counts["/plain"] <= 2
