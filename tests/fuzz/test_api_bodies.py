"""Fuzzing request bodies of the JSON endpoints an anonymous or signed-in caller reaches: allauth's
headless login, a module action, a chat start and a UI-tool answer. Random trees, random text and
values nested thousands of levels deep: every answer is below 500, and a refusal by the body
limits is ``{error, message}``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import json_trees, nested_json

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
ENDPOINTS = ["/_allauth/browser/v1/auth/login", "/api/modules/tasks/create_task",
             "/api/chats/mozaiks-demo/Chatter/start", "/api/ui-tool/submit"]
bodies = st.one_of(json_trees().map(json.dumps), st.text(max_size=200), nested_json(),
                   nested_json().map(lambda value: '{"title": ' + value + ', "response_data": ' + value + "}"))


@pytest.fixture
def member() -> Client:
    user = get_user_model().objects.create_user(username="fuzz", email="fuzz@example.com", password="pw-123456789")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


DEEP = "[" * 3000 + "]" * 3000


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies, signed_in=st.booleans())
@example(endpoint=ENDPOINTS[0], body=DEEP, signed_in=False)
@example(endpoint=ENDPOINTS[1], body='{"title": ' + DEEP + "}", signed_in=True)
def test_any_body_to_a_json_endpoint_gets_an_answer_below_500(member: Client, endpoint: str, body: str,
                                                             signed_in: bool) -> None:
    client = member if signed_in else Client(raise_request_exception=False)
    response = client.post(endpoint, body, content_type="application/json")
    assert response.status_code < 500, (endpoint, body[:200], response.content[:300])
    if response.status_code == 400 and response.get("Content-Type") == "application/json":
        answer: Any = response.json()
        if isinstance(answer, dict) and str(answer.get("error", "")).startswith("BODY_TOO"):
            assert answer["message"], answer
