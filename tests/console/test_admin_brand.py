"""The admin as an operator meets it: the app's name, an email login, internal fields read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.chat.factories import make_chat, make_user

pytestmark = pytest.mark.django_db


def test_the_admin_login_carries_the_apps_name_and_asks_for_the_email(client: Client) -> None:
    html = client.get("/admin/login/").content.decode()
    assert "Mozaiks Demo administration" in html
    assert "Django administration" not in html
    assert '<label for="id_username" class="required">Email:</label>' in html
    assert 'type="email" name="username"' in html


def test_an_operator_signs_in_to_the_admin_with_the_email(client: Client) -> None:
    make_user("ops@example.com", is_staff=True, is_superuser=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "ops@example.com",
                                                          "password": "a-long-test-password-1"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_the_run_claim_lock_token_and_runner_cannot_be_edited(client: Client) -> None:
    operator = make_user("ops@example.com", is_staff=True, is_superuser=True)
    chat = make_chat(operator, run_claim="0123456789abcdef0123456789abcdef", runner="web-1")
    client.force_login(operator)
    html = client.get(f"/admin/mozaiks_runtime/chatsession/{chat.pk}/change/").content.decode()
    assert 'name="run_claim"' not in html
    assert 'name="runner"' not in html
    assert "0123456789abcdef0123456789abcdef" in html, "shown, read-only"
    assert 'name="title"' in html, "the title stays editable"
