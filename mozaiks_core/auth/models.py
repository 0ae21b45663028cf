"""Organizations and memberships: the organization is the subject of billing and usage."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A team (or one person's personal workspace) that owns chats, subscriptions and usage."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    personal = models.BooleanField(default=False, help_text="Created automatically for one user at signup.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organization."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        """Owners and admins manage members, billing and API keys."""
        return self.role in {self.Role.OWNER, self.Role.ADMIN}
