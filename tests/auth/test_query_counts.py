"""Query-count baselines: authentication and listings do not grow with the data (no N+1)."""

from __future__ import annotations

import pytest
from django.test import Client

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import Membership

pytestmark = pytest.mark.django_db


def test_an_api_key_call_costs_a_fixed_handful_of_queries(make_user, make_team, django_assert_max_num_queries) -> None:
    owner = make_user()
    team = make_team(owner, name="Counted")
    secret = create_api_key(Membership.objects.get(user=owner, organization=team), name="bench").secret
    Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")  # first use writes last_used_at
    with django_assert_max_num_queries(2):
        assert Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


@pytest.mark.parametrize("extra_members", [1, 20])
def test_listing_members_does_not_query_per_member(
    extra_members: int, make_user, make_team, client_for, django_assert_max_num_queries
) -> None:
    owner = make_user()
    team = make_team(owner, name="Crowd")
    for _ in range(extra_members):
        Membership.objects.create(user=make_user(), organization=team)
    client = client_for(owner)
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/orgs/{team.pk}/members")
    assert len(response.json()) == extra_members + 1


def test_the_organizations_page_costs_the_same_for_one_or_fifteen_organizations(
    make_user, make_team, client_for
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(organizations: int) -> int:
        owner = make_user()
        for number in range(organizations):
            make_team(owner, name=f"Team {number}")
        client = client_for(owner)
        client.get("/orgs/")  # warm per-process caches (workspace, theme) the shell may fill on first use
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/orgs/").status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(15)
