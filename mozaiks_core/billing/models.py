"""Plans, one subscription per organization, and every webhook delivery a provider sent."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from mozaiks_core.auth.models import Organization


class Plan(models.Model):
    """A plan of the catalog; synced from ``subscriptions.yaml`` and editable in the admin."""

    plan_id = models.SlugField(max_length=80, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    trial_days = models.PositiveIntegerField(default=0)
    prices = models.JSONField(default=list, blank=True, help_text="[{interval, amount, currency, provider_price_id}]")
    features = models.JSONField(default=dict, blank=True, help_text="{key: true|false}")
    limits = models.JSONField(default=dict, blank=True, help_text="{key: number or null for unlimited}")
    meters = models.JSONField(default=dict, blank=True,
                              help_text="{key: {limit, reset: hour|day|week|month|never, enforcement: hard|soft}}")
    is_default = models.BooleanField(default=False, help_text="Organizations without a subscription get this plan.")
    active = models.BooleanField(default=True, help_text="Inactive plans are hidden from pricing and checkout.")
    position = models.PositiveIntegerField(default=0)
    managed_by_file = models.BooleanField(
        default=True, help_text="Synced from subscriptions.yaml; an admin edit detaches the plan from the file."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "plan_id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.plan_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep exactly one default plan."""
        with transaction.atomic():
            if self.is_default:
                Plan.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)

    def clean(self) -> None:
        """Validate the JSON fields with the catalog's rules, so admin edits cannot break decide()."""
        from mozaiks_core.billing.catalog import ProblemCollector, parse_plan

        check = ProblemCollector("admin")
        parse_plan(check, "plan", self.as_catalog_dict())
        errors = [f"{problem.path}: {problem.message} ({problem.hint})" for problem in check.problems
                  if problem.level == "error"]
        if errors:
            raise ValidationError(errors)

    def as_catalog_dict(self) -> dict[str, Any]:
        """This plan in the catalog file's shape."""
        return {"plan_id": self.plan_id, "label": self.label, "description": self.description,
                "trial_days": self.trial_days, "prices": self.prices, "features": self.features,
                "limits": self.limits, "meters": self.meters}

    def price_for(self, interval: str) -> dict[str, Any] | None:
        """The price for ``interval`` (month, year, ...), or None."""
        return next((price for price in self.prices if price.get("interval") == interval), None)


class Subscription(models.Model):
    """An organization's subscription; none means the default plan."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        INCOMPLETE = "incomplete", "Incomplete"

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="billing_subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    interval = models.CharField(max_length=8, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    trial_used = models.BooleanField(default=False, help_text="The organization has had its one trial.")
    cancel_at_period_end = models.BooleanField(default=False)
    provider = models.CharField(max_length=32, default="local")
    provider_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    provider_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    provider_event_at = models.DateTimeField(
        null=True, blank=True, help_text="Creation time of the newest provider event applied; older ones are skipped."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "trial_end"])]

    def __str__(self) -> str:
        return f"{self.organization} on {self.plan.plan_id} ({self.status})"

    @property
    def grants_plan(self) -> bool:
        """Whether the subscribed plan applies now (a lapsed trial or a canceled one does not)."""
        if self.status == self.Status.TRIALING:
            return self.trial_end is None or self.trial_end > timezone.now()
        return self.status in {self.Status.ACTIVE, self.Status.PAST_DUE}


class WebhookEvent(models.Model):
    """One provider event as delivered; processed after commit, at most once."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        SKIPPED_STALE = "stale", "Skipped (older than the applied state)"
        IGNORED = "ignored", "Ignored (type not handled)"
        UNKNOWN_CUSTOMER = "unknown_customer", "Unknown customer"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=32, default="stripe")
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=120, db_index=True)
    payload = models.JSONField()
    event_created_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    deliveries = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    flagged = models.BooleanField(default=False, help_text="Needs an operator: unknown customer or repeated failure.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="billing_webhook_events")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id} ({self.status})"
