"""Counted limits: which catalog limit keys are counted, and how (the registry decide() reads).

A plan's ``limits`` are numbers; a *counted* limit pairs one of those keys with a count of what
the organization holds now (seats, API keys, a module's rows). ``decide(org, key)`` then answers
with the real ``used``, and :func:`~mozaiks_core.entitlements.limits.enforce_limit` refuses an
addition that would pass the limit. The core registers ``members`` and ``api_keys``; a module
declares its own in ``module.yaml`` (``counted_limits``), or Python code calls
:func:`register_counted_limit` with :func:`count_rows`.

Each count is a SQL expression correlated to the organization's row, so
:func:`~mozaiks_core.entitlements.decisions.load_entitlements` reads every count in the same
query as the rules: deciding a counted limit costs no query of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Expression, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from mozaiks_core.auth.limits import API_KEYS, SEATS
from mozaiks_core.auth.models import APIKey, Invitation, Membership, Organization

CountExpression = Callable[[], Expression]  # a count of the organization's things, correlated to OuterRef("pk")


@dataclass(frozen=True)
class CountedLimit:
    """A catalog limit key and how to count what an organization holds of it."""

    key: str
    expression: CountExpression
    source: str  # who declared it: "core" or "module <id>"

    def count(self, organization_id: int) -> int:
        """What ``organization_id`` holds now (one query)."""
        value = (Organization.objects.filter(pk=organization_id).annotate(held=self.expression())
                 .values_list("held", flat=True).first())
        return int(value or 0)


_COUNTED: dict[str, CountedLimit] = {}


def register_counted_limit(key: str, expression: CountExpression, *, source: str) -> None:
    """Count ``key`` with ``expression`` (the last registration of a key wins, so a reload replaces a module's)."""
    _COUNTED[key] = CountedLimit(key=key, expression=expression, source=source)


def counted_limit(key: str) -> CountedLimit | None:
    """How ``key`` is counted, or None when nothing counts it."""
    return _COUNTED.get(key)


def counted_limits() -> dict[str, CountedLimit]:
    """Every counted limit, by key."""
    return dict(_COUNTED)


def _rows_of(queryset: models.QuerySet[Any], organization_field: str) -> Expression:
    correlated = queryset.filter(**{organization_field: OuterRef("pk")}).order_by()
    counted = correlated.values(organization_field).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=models.BigIntegerField()), 0)


def count_rows(model: type[models.Model], *, organization_field: str = "organization",
               where: dict[str, Any] | None = None) -> CountExpression:
    """Count ``model`` rows of the organization (``where``: extra field lookups, e.g. ``{"done": False}``)."""
    lookups = dict(where or {})
    return lambda: _rows_of(model._default_manager.filter(**lookups), organization_field)


def seats() -> Expression:
    """Seats taken: members plus invitations still pending."""
    pending = Invitation.objects.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
    return _rows_of(Membership.objects.all(), "organization") + _rows_of(pending, "organization")


def api_keys() -> Expression:
    """API keys that still work: not revoked and not expired."""
    working = APIKey.objects.filter(Q(expires_at=None) | Q(expires_at__gt=timezone.now()), revoked_at=None)
    return _rows_of(working, "organization")


def register_core_limits() -> None:
    """The limits the core itself consumes: seats at invite and accept, API keys at create."""
    register_counted_limit(SEATS, seats, source="core")
    register_counted_limit(API_KEYS, api_keys, source="core")
