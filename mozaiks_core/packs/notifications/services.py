"""Notification actions: create (from event reactions), count, list, mark read, preferences."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from mozaiks_core.auth.models import Membership
from mozaiks_core.packs.notifications.models import Notification, NotificationPreference
from mozaiks_core.plugins.registry import get_workspace
from mozaiks_core.plugins.specs import ReactionSpec

SAFE_LINK = re.compile(r"^(/(?!/)|https?://)[^\s\"'<>]*$")
PLACEHOLDER = re.compile(r"\{(payload|actor|subject)\.([A-Za-z0-9_.]+)\}")


def render_text(template: str, envelope: dict[str, Any]) -> str:
    """Fill ``{payload.title}``-style placeholders from the event (no format-string evaluation)."""
    def lookup(match: re.Match[str]) -> str:
        value: Any = envelope.get(match.group(1)) or {}
        for part in match.group(2).split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return str(value)

    return PLACEHOLDER.sub(lookup, template)


def safe_link(link: str) -> str:
    """Keep site-relative and http(s) links only: payload values must never become ``javascript:`` URLs."""
    return link[:500] if SAFE_LINK.match(link) else ""


def categories() -> list[dict[str, Any]]:
    """Every category declared in modules' ``notifications.yaml``."""
    return [dict(category) for module in get_workspace().modules.values()
            for category in module.notification_categories]


def is_enabled(user: Any, category: str) -> bool:
    """The user's preference for ``category``, else the category's declared default (on)."""
    preference = NotificationPreference.objects.filter(user=user, category=category).first()
    if preference is not None:
        return preference.enabled
    declared = next((c for c in categories() if c["id"] == category), {})
    return bool(declared.get("default_enabled", True))


def notify(*, user: Any, organization: Any, title: str, body: str = "", link: str = "", category: str = "general",
           event_id: Any = None, reaction_key: str = "") -> Notification | None:
    """Create one notification unless the user turned its category off; once per (event, reaction)."""
    if not is_enabled(user, category):
        return None
    if event_id is not None:
        notification, _ = Notification.objects.get_or_create(
            user=user, event_id=event_id, reaction_key=reaction_key,
            defaults={"organization": organization, "title": title[:300], "body": body, "link": safe_link(link),
                      "category": category})
        return notification
    return Notification.objects.create(user=user, organization=organization, title=title[:300], body=body,
                                       link=safe_link(link), category=category)


def recipients(kind: str, organization: Any, actor: Any) -> list[Any]:
    """Who a notification reaction addresses: the actor, the organization's admins, or every member.

    The organization kinds leave the actor out: nobody needs telling about what they just did.
    """
    if kind == "actor" or organization is None:
        return [actor] if actor is not None else []
    memberships = Membership.objects.filter(organization=organization).select_related("user")
    if kind == "organization_admins":
        memberships = memberships.filter(role__in=[Membership.Role.OWNER, Membership.Role.ADMIN])
    if actor is not None:
        memberships = memberships.exclude(user=actor)
    return [membership.user for membership in memberships]


def notify_for_event(reaction: ReactionSpec, envelope: dict[str, Any], *, organization: Any, actor: Any) -> int:
    """The ``notification`` reaction kind: one notification per recipient who has the category on.

    Written with one insert that ignores duplicates, so a repeated delivery cannot notify twice.
    """
    template = reaction.notification
    if organization is None:
        raise ValueError(f"event {envelope['event_id']} has no organization, so it cannot notify anyone")
    category = template.get("category") or envelope["event_type"]
    users = recipients(template.get("recipients", "actor"), organization, actor)
    switched = dict(NotificationPreference.objects.filter(user__in=users, category=category)
                    .values_list("user_id", "enabled"))
    default = next((bool(c.get("default_enabled", True)) for c in categories() if c["id"] == category), True)
    title = render_text(template["title"], envelope)[:300]
    body = render_text(template.get("body", ""), envelope)
    link = safe_link(render_text(template.get("link", ""), envelope))
    rows = [Notification(user=user, organization=organization, title=title, body=body, link=link, category=category,
                         event_id=envelope["event_id"], reaction_key=reaction.key)
            for user in users if switched.get(user.pk, default)]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def for_user(user: Any, organization: Any) -> QuerySet[Notification]:
    """The user's notifications in one organization (every read is scoped like this)."""
    return Notification.objects.filter(user=user, organization=organization)


def unread_count(user: Any, organization: Any) -> int:
    """The bell's number."""
    return for_user(user, organization).filter(read_at__isnull=True).count()


def mark_read(user: Any, organization: Any, ids: list[int] | None = None) -> int:
    """Mark some (or, with ``ids=None``, all) of the user's notifications read; returns how many changed."""
    unread = for_user(user, organization).filter(read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def set_preference(user: Any, category: str, enabled: bool) -> NotificationPreference:
    """Turn a category on or off for the user."""
    preference, _ = NotificationPreference.objects.update_or_create(user=user, category=category,
                                                                    defaults={"enabled": enabled})
    return preference
