"""One stored value of a declared setting, for a user in an organization or for the organization."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from mozaiks_core.auth.models import Organization


class SettingValue(models.Model):
    """A value that overrides a setting's declared default (``user`` is empty for organization settings)."""

    module_id = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(django_settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["module_id", "key", "organization", "user"], name="settings_value_user"),
            models.UniqueConstraint(fields=["module_id", "key", "organization"], condition=models.Q(user=None),
                                    name="settings_value_organization"),
        ]
        verbose_name = "setting value"

    def __str__(self) -> str:
        return f"{self.module_id}.{self.key}"
