"""Bad input: brute force hits rate limits; odd, oversized and hostile values get clear answers, never 500s."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mozaiks_core.auth.models import Organization
from mozaiks_core.entitlements.models import EntitlementOverride
from tests.auth.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.dbmatrix]
ODD_NAMES = ["\u202egnp.exe", "Zero\u200bWidth", "tab\tname", "nul\x00byte", "x" * 5000, "   ", "🙂" * 130]


def test_password_guessing_on_the_login_page_is_rate_limited_per_account(make_user) -> None:
    make_user("target@example.com")
    client = Client()
    answers = [client.post("/accounts/login/", {"login": "target@example.com", "password": f"guess-{n}"})
               for n in range(6)]
    assert all(answer.status_code == 200 for answer in answers[:5])
    last = answers[-1].content.decode()
    assert "Too many failed login attempts" in last
    right = client.post("/accounts/login/", {"login": "target@example.com", "password": PASSWORD})
    assert right.status_code == 200, "even the right password waits out the lock"
    assert client.get("/api/me").status_code == 401


def test_password_guessing_through_the_headless_api_locks_the_account_after_five_failures(make_user) -> None:
    make_user("victim@example.com")
    codes = []
    for attempt in [*(f"guess-{n}" for n in range(6)), PASSWORD]:
        response = Client().post("/_allauth/app/v1/auth/login", json.dumps(
            {"email": "victim@example.com", "password": attempt}), content_type="application/json")
        codes.append((response.status_code, response.json()["errors"][0]["code"]))
    assert codes[:5] == [(400, "email_password_mismatch")] * 5
    assert codes[5:] == [(400, "too_many_login_attempts")] * 2, "even the right password waits out the lock"


def test_failed_logins_across_many_accounts_from_one_address_are_limited_too() -> None:
    codes = [
        Client().post("/_allauth/app/v1/auth/login", json.dumps({"email": f"spray{n}@example.com", "password": "x1"}),
                      content_type="application/json").json()["errors"][0]["code"]
        for n in range(12)
    ]
    assert codes[:10] == ["email_password_mismatch"] * 10
    assert codes[10:] == ["too_many_login_attempts"] * 2


def test_signup_floods_from_one_address_hit_the_limit() -> None:
    client = Client()
    codes = [client.post("/accounts/signup/", {"email": f"flood{n}@example.com", "password1": PASSWORD,
                                               "password2": PASSWORD}).status_code for n in range(22)]
    assert 429 in codes
    assert "Too many attempts" in client.post("/accounts/signup/", {"email": "more@example.com"}).content.decode()


@pytest.mark.parametrize(
    "email", ["a" * 250 + "@example.com", "ｅｘａｍｐｌｅ＠example.com", "bad\x00@example.com", "no-at-sign",
              "rtl\u202e@example.com", "<script>@example.com"],
)
def test_odd_or_oversized_emails_get_a_form_error_at_signup(email: str) -> None:
    response = Client().post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html
    assert "<script>@" not in html


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_organization_names_are_refused_or_cleaned_never_a_500(name: str, make_user, client_for) -> None:
    client = client_for(make_user())
    response = client.post("/api/orgs", json.dumps({"name": name}), content_type="application/json")
    assert response.status_code in {201, 400, 422}
    if response.status_code == 201:
        stored = Organization.objects.get(pk=response.json()["id"])
        assert stored.name.isprintable()
        assert len(stored.name) <= 120
    else:
        body = response.json()
        assert body.get("detail")
        assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("email", ["x" * 300 + "@example.com", "ｅ@example.com", "a@b", "", "two@@example.com"])
def test_odd_invitation_addresses_get_a_precise_code(email: str, make_user, make_team, client_for) -> None:
    owner = make_user()
    team = make_team(owner, name="Inviters")
    response = client_for(owner).post(f"/api/orgs/{team.pk}/invitations", json.dumps({"email": email}),
                                      content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"EMAIL_INVALID", "EMAIL_TOO_LONG", "EMAIL_REQUIRED"}


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_api_key_names_get_a_clear_answer(name: str, make_user, make_team, client_for) -> None:
    owner = make_user()
    team = make_team(owner, name="Keys")
    response = client_for(owner).post(f"/api/orgs/{team.pk}/api-keys", json.dumps({"name": name}),
                                      content_type="application/json")
    assert response.status_code in {201, 400, 422}
    if response.status_code == 400:
        assert response.json()["code"] in {"NAME_INVALID", "NAME_REQUIRED"}
    if response.status_code == 422:
        assert "name" in json.dumps(response.json()["detail"])


@pytest.mark.parametrize("member_id", ["99999999999999999999999", "-1", "0"])
def test_absurd_ids_are_simply_not_found(member_id: str, make_user, make_team, client_for) -> None:
    owner = make_user()
    team = make_team(owner, name="Ids")
    client = client_for(owner)
    response = client.delete(f"/api/orgs/{team.pk}/members/{member_id}")
    assert response.status_code in {404, 422}
    assert client.get("/api/orgs/99999999999999999999999/members").status_code == 404
    assert client.get("/orgs/no-such-org/").status_code == 404


def test_the_organization_page_form_reports_bad_names_in_place(make_user, client_for) -> None:
    client = client_for(make_user())
    response = client.post("/orgs/", {"name": "nul\x00byte"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Organization.objects.filter(personal=False).exists()


def test_an_organization_cannot_send_more_invitations_per_hour_than_allowed(
    settings, make_user, make_team, client_for
) -> None:
    settings.MOZAIKS_INVITATIONS_PER_HOUR = 3
    owner = make_user()
    team = make_team(owner, name="Spammy")
    EntitlementOverride.objects.create(organization=team, key="members", unlimited=True)  # seats are not the point
    client = client_for(owner)
    codes = [client.post(f"/api/orgs/{team.pk}/invitations", json.dumps({"email": f"p{n}@example.com"}),
                         content_type="application/json").status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]
