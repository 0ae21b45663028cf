"""Starting a chat counts one workflow run against the organization's plan, once per chat.

The chat page and SDK clients retry starts and re-open chats (``reused: true``); those calls
still pass the gates and the token budget, but they must not spend ``workflow_runs_monthly``.
"""

from __future__ import annotations

from typing import Any

import pytest

from mozaiks_core.entitlements.services import decide

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]
START = "/api/chats/mozaiks-demo/ProductLaunch/start"


def _runs_used(organization: Any) -> int:
    return decide(type(organization).objects.get(pk=organization.pk), "workflow_runs_monthly").used or 0


def test_a_reused_chat_costs_no_second_run_and_a_new_chat_costs_one(make_user, make_team, client_for) -> None:
    owner = make_user()
    team = make_team(owner)
    client = client_for(owner)
    headers = {"HTTP_X_MOZAIKS_ORGANIZATION": str(team.pk)}

    first = client.post(START, {"client_request_id": "tab-1"}, content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    assert first.json()["reused"] is False
    for _ in range(3):  # a retried start and a re-opened chat page
        again = client.post(START, {"client_request_id": "tab-1"}, content_type="application/json", **headers)
        assert (again.status_code, again.json()["chat_id"], again.json()["reused"]) == (
            200, first.json()["chat_id"], True)
        reopened = client.post(START, {}, content_type="application/json", **headers)
        assert reopened.json()["chat_id"] == first.json()["chat_id"]
    assert _runs_used(team) == 1

    fresh = client.post(START, {"force_new": True}, content_type="application/json", **headers)
    assert fresh.status_code == 200, fresh.content
    assert fresh.json()["chat_id"] != first.json()["chat_id"]
    assert _runs_used(team) == 2
