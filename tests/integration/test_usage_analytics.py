"""The app owner's usage and cost API: per user, workflow, model and day, CSV, OpenAPI, fixed queries."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import create_organization
from mozaiks_core.entitlements.pricing import parse_prices, price_table
from mozaiks_core.runtime.models import ChatSession, UsageRecord

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]


@pytest.fixture
def team() -> tuple[Any, Any, Any]:
    users = [get_user_model().objects.create_user(username=f"{name}@example.com", email=f"{name}@example.com",
                                                  password=None) for name in ("owner", "member")]
    organization = create_organization(name="Costly", owner=users[0])
    Membership.objects.create(user=users[1], organization=organization, role="member")
    return organization, users[0], users[1]


def _call(organization: Any, user: Any, workflow: str, model: str, prompt: int, completion: int,
          days_ago: int = 0) -> None:
    session = ChatSession.objects.create(user=user, organization=organization, app_id="mozaiks-demo",
                                         workflow=workflow)
    cost = price_table().cost(model, prompt, completion)
    record = UsageRecord.objects.create(chat=session, agent="A", model=model, prompt_tokens=prompt,
                                        completion_tokens=completion, total_tokens=prompt + completion,
                                        workflow=workflow, user=user, organization=organization, cost=cost,
                                        transaction_id=f"t-{uuid.uuid4().hex}", plan_id="free")
    UsageRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


def _client(user: Any, organization: Any) -> Client:
    client = Client(headers={"X-Mozaiks-Organization": str(organization.pk)})
    client.force_login(user)
    return client


def test_usage_and_cost_per_model_user_workflow_and_day_with_a_period_filter(team) -> None:
    organization, owner, member = team
    _call(organization, owner, "Launch", "gpt-4o-mini", 1_000_000, 100_000)  # 0.15 + 0.06
    _call(organization, member, "Launch", "gpt-4.1-mini", 500_000, 500_000)  # 0.20 + 0.80
    _call(organization, member, "Report", "gpt-4o-mini", 10, 10, days_ago=40)  # outside the default 30 days
    client = _client(owner, organization)

    by_model = client.get("/api/usage/llm?group_by=model").json()
    assert {row["key"]: (row["total_tokens"], row["cost"]) for row in by_model["rows"]} == {
        "gpt-4o-mini": (1_100_000, "0.21"), "gpt-4.1-mini": (1_000_000, "1")}
    by_user = client.get("/api/usage/llm?group_by=user").json()["rows"]
    assert {row["key"]: row["cost"] for row in by_user} == {"owner@example.com": "0.21", "member@example.com": "1"}
    by_workflow = client.get("/api/usage/llm?group_by=workflow").json()["rows"]
    assert [(row["key"], row["calls"]) for row in by_workflow] == [("Launch", 2)]
    today = timezone.now().date()
    longer = client.get(f"/api/usage/llm?group_by=workflow&start={today - timedelta(days=60)}&end={today}").json()
    assert {row["key"] for row in longer["rows"]} == {"Launch", "Report"}
    by_day = client.get("/api/usage/llm?group_by=day").json()["rows"]
    assert [row["key"] for row in by_day] == [today.isoformat()]


def test_the_csv_export_has_a_header_and_one_line_per_group(team) -> None:
    organization, owner, _ = team
    _call(organization, owner, "Launch", "gpt-4o-mini", 1_000_000, 0)
    response = _client(owner, organization).get("/api/usage/llm?group_by=model&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["key"], row["total_tokens"], Decimal(row["cost"]), row["currency"]) for row in rows] == [
        ("gpt-4o-mini", "1000000", Decimal("0.15"), "usd")]


def test_members_are_refused_and_bad_queries_name_the_parameter(team) -> None:
    organization, owner, member = team
    assert _client(member, organization).get("/api/usage/llm").status_code == 403
    bad = _client(owner, organization).get("/api/usage/llm?group_by=planet")
    assert (bad.status_code, bad.json()["field"]) == (400, "group_by")
    backwards = _client(owner, organization).get("/api/usage/llm?start=2026-02-01&end=2026-01-01")
    assert (backwards.status_code, backwards.json()["field"]) == (400, "start")


def test_each_figure_costs_the_same_queries_however_many_calls_users_and_models(team) -> None:
    organization, owner, member = team
    client = _client(owner, organization)
    _call(organization, owner, "Launch", "gpt-4o-mini", 10, 10)
    client.get("/api/usage/llm?group_by=user")  # warm the session and plan caches
    counts = []
    for extra in (1, 25):
        for number in range(extra):
            _call(organization, owner if number % 2 else member, f"W{number % 5}", f"m{number % 3}", 10, 10)
        with CaptureQueriesContext(connection) as queries:
            for group in ("user", "workflow", "model", "day"):
                assert client.get(f"/api/usage/llm?group_by={group}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 4 * 4, counts  # authentication and the caller, plus one aggregate per figure


def test_the_route_is_in_the_openapi_schema() -> None:
    schema = Client().get("/api/openapi.json").json()
    operation = schema["paths"]["/api/usage/llm"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"group_by", "start", "end", "format"}


def test_the_price_table_keeps_documented_defaults_and_names_a_bad_entry(tmp_path: Path) -> None:
    table, problems = parse_prices('currency: eur\nmodels:\n  house-model: {input_per_million: "1"}\n', "p.yaml")
    assert table.currency == "eur"
    assert table.cost("gpt-4o-mini", 1_000_000, 1_000_000) == Decimal("0.75")  # default kept
    assert [(problem.path, problem.message.split(" as ")[0]) for problem in problems] == [
        ("models.house-model", "a model price needs input_per_million and output_per_million")]
    assert table.cost("unknown-model", 10**6, 10**6) == 0
