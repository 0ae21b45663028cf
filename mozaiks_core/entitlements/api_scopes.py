"""Data scopes of the entitlements API (``/api/entitlements/...``), for the org-scoping check.

Every route answers for the caller's active organization: its decisions (plan plus overrides)
and its usage. The factories give org A an override or usage no other organization has.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from mozaiks_core.auth.models import Organization
from mozaiks_core.auth.scoping import DataScope, ScopedCall, org_scope
from mozaiks_core.entitlements.metering import consume
from mozaiks_core.entitlements.models import EntitlementOverride


def _granted_feature(organization: Organization) -> str:
    key = f"scope_{uuid.uuid4().hex[:10]}"
    EntitlementOverride.objects.create(organization=organization, key=key, granted=True, note="org-scoping check")
    return key


def overridden_feature(organization: Organization, owner: Any) -> ScopedCall:
    """A feature granted to org A alone by an override: the list names it."""
    return ScopedCall(marker=_granted_feature(organization))


def decided_feature(organization: Organization, owner: Any) -> ScopedCall:
    """The same override, decided by key: granted for org A, an unknown (denied) key elsewhere."""
    key = _granted_feature(organization)
    return ScopedCall(path_params={"key": key}, marker='"granted": true', organization_from_header=True)


def consumed_tokens(organization: Organization, owner: Any) -> ScopedCall:
    """Org A used a distinctive number of tokens this month: its usage shows that number."""
    quantity = 7_000_000 + secrets.randbelow(999_999)
    consume(organization, "tokens_monthly", quantity, f"scope-{uuid.uuid4().hex}", enforce=False, user_id=owner.pk)
    return ScopedCall(query={"meter": "tokens_monthly"}, marker=str(quantity))


API_SCOPES: dict[str, DataScope] = {
    "mozaiks_core.entitlements.api.list_entitlements": org_scope(overridden_feature),
    "mozaiks_core.entitlements.api.usage": org_scope(consumed_tokens),
    "mozaiks_core.entitlements.api.decide_key": org_scope(decided_feature),
}
