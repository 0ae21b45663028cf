"""Every new user gets a personal organization."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from mozaiks_core.auth.services import ensure_personal_organization


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="mozaiks_personal_organization")
def create_personal_organization(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """Give each new (non-fixture) user a personal organization they own."""
    if created and not raw:
        ensure_personal_organization(instance)
