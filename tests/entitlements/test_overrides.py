"""Operator overrides choose from the catalog's keys: a typo is refused with the valid keys listed."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from mozaiks_core.entitlements.models import EntitlementOverride
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")


def test_an_override_for_a_key_no_plan_declares_is_refused_naming_the_valid_keys(db) -> None:
    _, org = make_member("typo@example.com")
    override = EntitlementOverride(organization=org, key="tokens_montly", limit=10)
    with pytest.raises(ValidationError) as refused:
        override.full_clean()
    message = " ".join(refused.value.message_dict["key"])
    assert "'tokens_montly' is not an entitlement of any plan" in message
    assert "tokens_monthly" in message
    assert "members" in message


def test_the_admin_form_offers_the_catalog_keys_by_label_and_refuses_a_typo(db, client) -> None:
    _, org = make_member("admin-form@example.com")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(admin)
    page = client.get("/admin/mozaiks_entitlements/entitlementoverride/add/").content.decode()
    assert '<option value="tokens_monthly">AI tokens (meter: tokens_monthly)</option>' in page
    assert '<option value="members">Seats (limit: members)</option>' in page
    response = client.post("/admin/mozaiks_entitlements/entitlementoverride/add/",
                           {"organization": org.pk, "key": "tokens_montly", "limit": 10, "enforcement": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not EntitlementOverride.objects.exists()
    saved = client.post("/admin/mozaiks_entitlements/entitlementoverride/add/",
                        {"organization": org.pk, "key": "tokens_monthly", "limit": 10, "enforcement": ""})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert EntitlementOverride.objects.get().key == "tokens_monthly"
