"""The notifications page: the caller's notifications, mark read, and category preferences."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mozaiks_core.auth.caller import membership_for_request
from mozaiks_core.packs.notifications import services


@login_required
@require_http_methods(["GET", "POST"])
def notifications_page(request: HttpRequest) -> HttpResponse:
    """List notifications (newest first); POST marks one or all read, or saves a preference."""
    membership = membership_for_request(request, request.user)
    organization = membership.organization if membership else None
    if request.method == "POST":
        if "category" in request.POST:
            services.set_preference(request.user, request.POST["category"], request.POST.get("enabled") == "on")
        elif request.POST.get("notification", "").isdigit():
            services.mark_read(request.user, organization, [int(request.POST["notification"])])
        else:
            services.mark_read(request.user, organization)
        return redirect("mozaiks_notifications:list")
    page = Paginator(services.for_user(request.user, organization), 20).get_page(request.GET.get("page"))
    preferences = [{**category, "enabled": services.is_enabled(request.user, category["id"])}
                   for category in services.categories()]
    return render(request, "notifications/list.html", {"page": page, "preferences": preferences})
