"""Per-organization overrides, the usage ledger and the per-period usage counters."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from mozaiks_core.auth.models import Organization


class EntitlementOverride(models.Model):
    """An operator's exception for one organization: grant or revoke a feature, change a limit or meter."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="entitlement_overrides")
    key = models.CharField(max_length=80)
    granted = models.BooleanField(null=True, blank=True, help_text="Features: force on (yes) or off (no).")
    limit = models.BigIntegerField(null=True, blank=True, help_text="Limits and meters: the new number.")
    unlimited = models.BooleanField(default=False, help_text="Limits and meters: no limit at all.")
    enforcement = models.CharField(max_length=4, blank=True, choices=[("hard", "hard"), ("soft", "soft")],
                                   help_text="Meters: switch hard/soft (blank keeps the plan's).")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until removed.")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="unique_entitlement_override")]

    def __str__(self) -> str:
        return f"{self.organization}: {self.key}"

    def clean(self) -> None:
        """The key must be one the catalog declares; an override must change something; no negative limit."""
        from mozaiks_core.billing.plans import plan_index

        kinds = plan_index().key_kinds
        if self.key not in kinds:
            raise ValidationError({"key": f"{self.key!r} is not an entitlement of any plan. Choose one of: "
                                          f"{', '.join(sorted(kinds)) or '(no plans are configured)'}."})
        if self.granted is None and self.limit is None and not self.unlimited and not self.enforcement:
            raise ValidationError("Set granted, limit, unlimited or enforcement; an empty override changes nothing.")
        if self.limit is not None and self.limit < 0:
            raise ValidationError({"limit": "A limit is a non-negative number; use 0 to block."})


class UsageEvent(models.Model):
    """One consumption of a meter (the ledger); ``transaction_id`` makes a retry a no-op."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="usage_events")
    meter = models.CharField(max_length=80)
    quantity = models.BigIntegerField()
    transaction_id = models.CharField(max_length=200, unique=True)
    period_start = models.DateTimeField()
    granted = models.BooleanField(default=True, help_text="False: refused by a hard limit (nothing counted).")
    reserved = models.BigIntegerField(default=0, help_text="What the call reserved before it ran (its estimate); "
                                      "released when this row is recorded.")
    user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "meter", "created_at"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.meter} +{self.quantity}"


class UsageCounter(models.Model):
    """How much of a meter an organization used in one period (exact under concurrent writers)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="usage_counters")
    meter = models.CharField(max_length=80)
    period_start = models.DateTimeField()
    used = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0, help_text="Held by admitted calls still running (hard meters).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "meter"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "meter", "period_start"], name="unique_usage_counter")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.meter} @ {self.period_start:%Y-%m-%d %H:%M}: {self.used}"
