"""API keys: created by owners/admins, shown once, stored hashed, scoped, expiring, revocable.

A key reads ``mzk_<8 hex>_<43 url-safe chars>``. The first part (``mzk_<8 hex>``) is stored in
clear as the lookup prefix; the whole key is stored as SHA-256 (keys carry 256 random bits, so a
slow password hash adds nothing). ``last_used_at`` is written at most once a minute per key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mozaiks_core.auth.limits import API_KEYS, guard_addition
from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.auth.services import ActionRefused, parse_id, require_manager

KEY_PREFIX = "mzk_"
KEY_PATTERN = re.compile(r"^mzk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
SCOPES: dict[str, str] = {
    "read": "GET endpoints of the organization",
    "write": "create and change things (POST, PUT, PATCH, DELETE)",
    "manage": "owner/admin endpoints: members, billing, API keys (capped by the creator's role)",
}
DEFAULT_SCOPES = ["read", "write"]
LAST_USED_RESOLUTION = timedelta(seconds=60)
MAX_NAME = 100


class APIKeyError(Exception):
    """A presented key is malformed, unknown, revoked or expired; the message is safe to show."""


@dataclass(frozen=True)
class CreatedKey:
    """A new key and the only copy of its secret."""

    api_key: APIKey
    secret: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clean_scopes(scopes: Any) -> list[str]:
    """Validate requested scopes (a list or comma-separated text); empty means the defaults."""
    if scopes in (None, "", []):
        return list(DEFAULT_SCOPES)
    items = [item.strip() for item in scopes.split(",")] if isinstance(scopes, str) else list(scopes)
    unknown = [str(item)[:40] for item in items if item not in SCOPES]
    if unknown:
        raise ActionRefused("SCOPE_INVALID", f"Unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPES)}.")
    return sorted(set(items), key=list(SCOPES).index)


@transaction.atomic
def create_api_key(
    actor: Membership, *, name: Any, scopes: Any = None, expires_at: datetime | None = None
) -> CreatedKey:
    """Create a key for the actor's organization; the returned secret is never retrievable again."""
    require_manager(actor)
    text = " ".join(str(name or "").split())
    if not text:
        raise ActionRefused("NAME_REQUIRED", "Name the key after what uses it, e.g. 'nightly export'.")
    if len(text) > MAX_NAME or any(not char.isprintable() for char in text):
        raise ActionRefused("NAME_INVALID", f"The key name must be at most {MAX_NAME} printable characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ActionRefused("EXPIRY_IN_PAST", "The expiry date is in the past; pick a future date or none.")
    chosen = clean_scopes(scopes)
    guard_addition(actor.organization, API_KEYS)
    while True:
        public = secrets.token_hex(4)
        if not APIKey.objects.filter(prefix=f"{KEY_PREFIX}{public}").exists():
            break
    secret = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    api_key = APIKey.objects.create(
        organization=actor.organization,
        name=text,
        prefix=f"{KEY_PREFIX}{public}",
        key_hash=_hash(secret),
        scopes=chosen,
        created_by=actor.user,
        expires_at=expires_at,
    )
    return CreatedKey(api_key=api_key, secret=secret)


def revoke_api_key(actor: Membership, key_id: Any) -> APIKey:
    """Revoke a key of the actor's organization; it stops working at once."""
    require_manager(actor)
    api_key = APIKey.objects.filter(organization=actor.organization, pk=parse_id(key_id)).first()
    if api_key is None:
        raise ActionRefused("NOT_FOUND", "No such API key in this organization.", 404)
    if api_key.revoked_at is None:
        from mozaiks_core.auth.signals import announce_credentials_changed

        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        if api_key.created_by_id is not None:  # sockets of tokens the key started are re-checked
            announce_credentials_changed(api_key.created_by_id, api_key.organization_id, "api_key_revoked")
    return api_key


def authenticate_api_key(presented: str) -> APIKey:
    """The live key matching ``presented``; raises :class:`APIKeyError` (without saying which part was wrong)."""
    match = KEY_PATTERN.match(presented or "")
    if match is None:
        raise APIKeyError("The API key is malformed; keys look like mzk_1a2b3c4d_... (copy it again).")
    api_key = (
        APIKey.objects.select_related("organization", "created_by")
        .filter(prefix=f"{KEY_PREFIX}{match.group(1)}")
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(presented)):
        raise APIKeyError("The API key is not valid.")
    if api_key.status != "active":
        raise APIKeyError(f"The API key is {api_key.status}; create a new one.")
    touch_last_used(api_key)
    return api_key


def touch_last_used(api_key: APIKey) -> None:
    """Record use, but write at most once per minute per key (one conditional UPDATE)."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = now - LAST_USED_RESOLUTION
    APIKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=api_key.pk).update(
        last_used_at=now
    )
    api_key.last_used_at = now
