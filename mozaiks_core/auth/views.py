"""Server-rendered organization pages, the invitation link and the JWKS document.

Views are thin: they call the same actions as the JSON API and turn a refusal into a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mozaiks_core.auth import api_keys, invitations, services
from mozaiks_core.auth.caller import SESSION_ORG_KEY, membership_for_request, set_active_organization
from mozaiks_core.auth.forms import APIKeyForm, InvitationForm, OrganizationForm, RoleForm
from mozaiks_core.auth.limits import API_KEYS, SEATS, limit_status
from mozaiks_core.auth.models import APIKey, Membership
from mozaiks_core.auth.services import ActionRefused
from mozaiks_core.auth.tokens import jwks


def _refused(request: HttpRequest, error: ActionRefused) -> None:
    messages.error(request, error.message)


def _membership(request: HttpRequest, slug: str) -> Membership:
    return services.membership_of(request.user, slug)


@login_required
@require_http_methods(["GET", "POST"])
def organization_list(request: HttpRequest) -> HttpResponse:
    """The caller's organizations, the active one marked, and a form to create a team."""
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(name=form.cleaned_data["name"], owner=request.user)
        except ActionRefused as error:
            form.add_error("name", error.message)
        else:
            set_active_organization(request, request.user, organization.pk)
            messages.success(request, f"Created {organization.name}; it is now your active organization.")
            return redirect("mozaiks_auth:organization_detail", slug=organization.slug)
    active = membership_for_request(request, request.user)
    memberships = Membership.objects.select_related("organization").filter(user=request.user)
    return render(request, "mozaiks_auth/organization_list.html", {
        "memberships": memberships.order_by("organization__name"),
        "active_id": active.organization_id if active else None,
        "form": form,
    })


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Make another organization active for this session."""
    try:
        membership = set_active_organization(request, request.user, request.POST.get("organization", ""))
        messages.success(request, f"{membership.organization.name} is now your active organization.")
    except ActionRefused as error:
        _refused(request, error)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("mozaiks_auth:organization_list")


@login_required
@require_http_methods(["GET", "POST"])
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Members, pending invitations and (for owners/admins) the invitation form."""
    try:
        membership = _membership(request, slug)
    except ActionRefused:
        return render(request, "mozaiks_auth/not_found.html", status=404)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite_member(membership, email=form.cleaned_data["email"],
                                                   role=form.cleaned_data["role"], request=request)
        except ActionRefused as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("mozaiks_auth:organization_detail", slug=slug)
    organization = membership.organization
    return render(request, "mozaiks_auth/organization_detail.html", {
        "membership": membership,
        "organization": organization,
        "members": organization.memberships.select_related("user").order_by("created_at"),
        "pending": invitations.pending_invitations(organization) if membership.can_manage else [],
        "seats": limit_status(organization, SEATS),
        "form": form,
        "role_choices": Membership.Role.choices,
    })


_MEMBER_ACTIONS = {"role", "remove", "transfer", "leave", "revoke_invitation", "resend_invitation"}


@login_required
@require_POST
def organization_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """One button on the organization page: change role, remove, transfer, leave, revoke or resend."""
    try:
        membership = _membership(request, slug)
    except ActionRefused:
        return render(request, "mozaiks_auth/not_found.html", status=404)
    if action not in _MEMBER_ACTIONS:
        return render(request, "mozaiks_auth/not_found.html", status=404)
    try:
        done = _run_action(request, membership, action)
    except ActionRefused as error:
        _refused(request, error)
    else:
        messages.success(request, done)
        if action == "leave":
            request.session.pop(SESSION_ORG_KEY, None)
            return redirect("mozaiks_auth:organization_list")
    return redirect("mozaiks_auth:organization_detail", slug=slug)


def _member(membership: Membership, member_id: Any) -> Membership:
    target = membership.organization.memberships.select_related("user").filter(
        pk=services.parse_id(member_id)
    ).first()
    if target is None:
        raise ActionRefused("NOT_FOUND", "No such member in this organization.", 404)
    return target


def _run_action(request: HttpRequest, membership: Membership, action: str) -> str:
    post = request.POST
    if action != "leave":
        services.require_manager(membership)
    if action == "role":
        form = RoleForm(post)
        if not form.is_valid():
            raise ActionRefused("ROLE_INVALID", "Pick owner, admin or member.")
        target = services.change_role(membership, _member(membership, post.get("member")), form.cleaned_data["role"])
        return f"{target.user.email} is now {target.get_role_display().lower()}."
    if action == "remove":
        target = _member(membership, post.get("member"))
        services.remove_member(membership, target)
        return f"Removed {target.user.email}."
    if action == "transfer":
        target = services.transfer_ownership(membership, _member(membership, post.get("member")))
        return f"{target.user.email} now owns {membership.organization.name}; you are an admin."
    if action == "leave":
        services.leave_organization(membership)
        return f"You left {membership.organization.name}."
    if action == "revoke_invitation":
        invitation = invitations.revoke_invitation(membership, post.get("invitation"))
        return f"Revoked the invitation to {invitation.email}."
    invitation = invitations.resend_invitation(membership, post.get("invitation"), request=request)
    return f"Sent a new link to {invitation.email}."


@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's API keys, a form to create one, and the new key shown once."""
    try:
        membership = _membership(request, slug)
        services.require_manager(membership)
    except ActionRefused as error:
        status = error.status
        template = "mozaiks_auth/not_found.html" if status == 404 else "mozaiks_auth/forbidden.html"
        return render(request, template, {"detail": error.message}, status=status)
    form = APIKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = api_keys.create_api_key(membership, name=form.cleaned_data["name"],
                                              scopes=form.cleaned_data["scopes"],
                                              expires_at=form.cleaned_data["expires_at"])
        except ActionRefused as error:
            form.add_error(None, error.message)
        else:
            form = APIKeyForm()
    return render(request, "mozaiks_auth/api_keys.html", {
        "organization": membership.organization,
        "keys": APIKey.objects.filter(organization=membership.organization),
        "key_limit": limit_status(membership.organization, API_KEYS),
        "form": form,
        "created": created,
    })


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
    """Revoke one key from the API keys page."""
    try:
        api_key = api_keys.revoke_api_key(_membership(request, slug), key_id)
        messages.success(request, f"Revoked {api_key.name} ({api_key.prefix}).")
    except ActionRefused as error:
        if error.status == 404:
            return render(request, "mozaiks_auth/not_found.html", status=404)
        _refused(request, error)
    return redirect("mozaiks_auth:api_keys", slug=slug)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: accept when signed in, else sign up or sign in first and come back."""
    try:
        invitation = invitations.find_invitation(token)
    except ActionRefused as error:
        return render(request, "mozaiks_auth/invitation_invalid.html", {"detail": error.message},
                      status=error.status)
    if not request.user.is_authenticated:
        from allauth.account.adapter import get_adapter

        request.session[invitations.SESSION_INVITATION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "mozaiks_auth/invitation_anonymous.html", {
            "invitation": invitation,
            "signup_url": f"{reverse('account_signup')}?{urlencode({'email': invitation.email})}",
            "login_url": reverse("account_login"),
        })
    if request.method == "POST":
        try:
            membership = invitations.accept_invitation(token, request.user)
        except ActionRefused as error:
            return render(request, "mozaiks_auth/invitation_invalid.html", {"detail": error.message},
                          status=error.status)
        set_active_organization(request, request.user, membership.organization_id)
        messages.success(request, f"Welcome to {membership.organization.name}.")
        return redirect("mozaiks_auth:organization_detail", slug=membership.organization.slug)
    return render(request, "mozaiks_auth/invitation_accept.html", {"invitation": invitation})


@require_GET
def jwks_document(request: HttpRequest) -> JsonResponse:
    """``/.well-known/jwks.json``: the public key external runtimes verify execution tokens with."""
    response = JsonResponse(jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
