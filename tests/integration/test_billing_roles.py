"""Only owners and admins change billing, whichever credential they use.

An API key acts with its creator's role only when it has the ``manage`` scope; a read/write key
of an owner is a member's key (mozaiks_core.auth.security), so it must not buy, cancel or open
the portal.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mozaiks_core.auth import api_keys
from mozaiks_core.auth.models import Membership
from mozaiks_core.billing import services
from mozaiks_core.billing.api_scopes import _own_plan

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]


def _key(owner: Any, organization: Any, scopes: list[str]) -> str:
    membership = Membership.objects.get(user=owner, organization=organization)
    return api_keys.create_api_key(membership, name="billing check", scopes=scopes).secret


@pytest.mark.parametrize(("path", "body"), [
    ("/api/billing/checkout", "checkout"), ("/api/billing/portal", None), ("/api/billing/cancel", None),
])
def test_an_api_key_without_the_manage_scope_cannot_change_billing(path: str, body: Any, make_user, make_team) -> None:
    owner = make_user()
    team = make_team(owner)
    plan = _own_plan("Key plan")
    services.change_plan(team, _own_plan("Current plan"), interval="month")
    payload = {"plan_id": plan.plan_id, "interval": "month"} if body else {}

    plain = _key(owner, team, ["read", "write"])
    refused = Client().post(path, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert refused.status_code == 403, refused.content
    assert services.effective_plan(team).label.startswith("Current plan")

    manager = _key(owner, team, ["read", "write", "manage"])
    served = Client().post(path, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {manager}")
    assert served.status_code == 200, served.content
