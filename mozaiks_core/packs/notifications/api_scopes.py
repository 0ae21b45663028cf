"""Org-scoping factories of the notifications pack's actions (see mozaiks_core/plugins/api_scopes.py).

Notifications belong to one user in one organization: the marker is the title of the owner's
notification in organization A, which nobody else's answer may contain.
"""

from __future__ import annotations

import uuid
from typing import Any

from mozaiks_core.auth.scoping import ScopedCall
from mozaiks_core.packs.notifications.models import Notification


def _notification(organization: Any, owner: Any) -> Notification:
    return Notification.objects.create(user=owner, organization=organization, category="general",
                                       title=f"Scoped notice {uuid.uuid4().hex[:10]}")


def owner_notification(organization: Any, owner: Any) -> ScopedCall:
    """An unread notification of the owner in org A: the list shows it."""
    return ScopedCall(marker=_notification(organization, owner).title)


def unread_notification(organization: Any, owner: Any) -> ScopedCall:
    """One unread notification in org A (the count is a number, so there is no marker)."""
    _notification(organization, owner)
    return ScopedCall()


def notification_to_mark(organization: Any, owner: Any) -> ScopedCall:
    """Mark the owner's notification of org A read, by id."""
    return ScopedCall(json={"ids": [_notification(organization, owner).pk]})


def preference_change(organization: Any, owner: Any) -> ScopedCall:
    """Turn a category off."""
    return ScopedCall(json={"category": "general", "enabled": False})


SCOPE_FACTORIES = {
    "list": owner_notification,
    "unread_count": unread_notification,
    "mark_read": notification_to_mark,
    "set_preference": preference_change,
}
