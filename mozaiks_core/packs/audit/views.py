"""The organization's activity page (members with the ``audit.view`` role only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from mozaiks_core.auth.caller import membership_for_request
from mozaiks_core.auth.models import Membership
from mozaiks_core.error_pages import forbidden
from mozaiks_core.packs.audit import services
from mozaiks_core.plugins.registry import get_workspace


@login_required
def current_activity(request: HttpRequest) -> HttpResponse:
    """Redirect to the activity page of the active organization."""
    membership = membership_for_request(request, request.user)
    if membership is None:
        raise Http404("no active organization")
    return redirect("mozaiks_audit:organization-activity", slug=membership.organization.slug)


@login_required
def organization_activity(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's activity log, filterable by event type, 25 a page."""
    membership = Membership.objects.select_related("organization").filter(
        user=request.user, organization__slug=slug).first()
    if membership is None:
        raise Http404("no such organization")
    roles = get_workspace().modules["audit"].permissions["audit.view"].roles
    if membership.role not in roles:
        return forbidden(request, "Only the organization's owners and admins can read its activity log; "
                                  "ask one of them to change your role if you need it.")
    event_type = request.GET.get("event_type", "")
    page = Paginator(services.activity(membership.organization, event_type), 25).get_page(request.GET.get("page"))
    return render(request, "audit/activity.html", {
        "organization": membership.organization, "page": page, "event_type": event_type,
        "event_types": services.event_types(membership.organization),
    })
