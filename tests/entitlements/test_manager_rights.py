"""Who counts as a manager for admin-only capabilities and billing: the credential, then the role.

An owner's API key without the ``manage`` scope acts as a member, so it must neither see nor
launch ``visibility: admin`` capabilities; a Django superuser is no manager of an organization
in which they are a plain member.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mozaiks_core.auth.api_keys import create_api_key
from mozaiks_core.auth.models import Membership, Organization
from mozaiks_core.billing.adapters import BillingError
from mozaiks_core.billing.services import start_checkout
from mozaiks_core.entitlements import capabilities as capabilities_module
from mozaiks_core.entitlements.models import EntitlementOverride
from mozaiks_core.entitlements.services import capabilities_for, check_run_allowed
from mozaiks_core.runtime.bundles import get_registry
from mozaiks_core.workspace_info import app_id
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")

TRANSPORT_WORKFLOWS = Path(__file__).parents[1] / "runtime" / "transport" / "workflows"
CAPABILITIES = """
capabilities:
  - id: audit
    workflow: HelloUI
    label: Audit desk
    visibility: admin
"""


@pytest.fixture
def admin_capability(tmp_path: Path, settings: Any) -> Iterator[None]:
    """The HelloUI test workflow, reachable only as the admin-only capability ``audit``."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "capabilities.yaml").write_text(CAPABILITIES)
    settings.MOZAIKS_APP_DIR = tmp_path
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(TRANSPORT_WORKFLOWS)]
    settings.MOZAIKS_RUN_EXECUTOR = "asyncio"
    settings.MOZAIKS_LLM_PROVIDER = "scripted"
    capabilities_module._cache.clear()
    get_registry(refresh=True)
    yield
    capabilities_module._cache.clear()
    get_registry(refresh=True)


def _key_client(owner: Any, organization: Organization, scopes: list[str]) -> Client:
    membership = Membership.objects.get(user=owner, organization=organization)
    EntitlementOverride.objects.get_or_create(organization=organization, key="api_keys", defaults={"unlimited": True})
    secret = create_api_key(membership, name="ci", scopes=scopes).secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _capability_ids(client: Client) -> set[str]:
    response = client.get("/api/ai/capabilities")
    assert response.status_code == 200, response.content
    return {item["capability_id"] for item in response.json()["capabilities"]}


def test_an_owners_key_without_manage_neither_lists_nor_launches_admin_capabilities(
    db: None, admin_capability: None
) -> None:
    owner, org = make_member("key-owner@example.com")
    writer = _key_client(owner, org, ["read", "write"])
    assert "audit" not in _capability_ids(writer)
    refused = writer.post("/api/ai/launch", {"capability_id": "audit"}, content_type="application/json")
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"] == "CAPABILITY_FORBIDDEN"
    started = writer.post(f"/api/chats/{app_id()}/HelloUI/start", {}, content_type="application/json")
    assert (started.status_code, started.json()["error"]) == (403, "CAPABILITY_FORBIDDEN")


def test_an_owners_key_with_manage_lists_and_launches_admin_capabilities(db: None, admin_capability: None) -> None:
    owner, org = make_member("manage-owner@example.com")
    manager = _key_client(owner, org, ["read", "write", "manage"])
    assert "audit" in _capability_ids(manager)
    launched = manager.post("/api/ai/launch", {"capability_id": "audit"}, content_type="application/json")
    assert launched.status_code == 200, launched.content


def test_a_superuser_who_is_a_plain_member_is_no_manager_of_that_organization(
    db: None, admin_capability: None
) -> None:
    _, org = make_member("team-owner@example.com")
    operator, _ = make_member("operator@example.com", organization=org, role="member")
    get_user_model().objects.filter(pk=operator.pk).update(is_superuser=True, is_staff=True)
    operator.refresh_from_db()
    assert capabilities_for(user=operator, organization=org, workflow_names=["HelloUI"]) == []
    refused = check_run_allowed(user=operator, organization=org, workflow_name="HelloUI")
    assert refused.error_code == "CAPABILITY_FORBIDDEN"
    with pytest.raises(BillingError) as error:
        start_checkout(organization=org, user=operator, plan_id="pro", success_url="/", cancel_url="/")
    assert error.value.status == 403
