"""Organization pages, the invitation link and the JWKS document (mounted at the site root)."""

from __future__ import annotations

from django.urls import path

from mozaiks_core.auth import views

app_name = "mozaiks_auth"
urlpatterns = [
    path(".well-known/jwks.json", views.jwks_document, name="jwks"),
    path("orgs/", views.organization_list, name="organization_list"),
    path("orgs/switch/", views.switch_organization, name="organization_switch"),
    path("orgs/<slug:slug>/", views.organization_detail, name="organization_detail"),
    path("orgs/<slug:slug>/do/<slug:action>/", views.organization_action, name="organization_action"),
    path("orgs/<slug:slug>/api-keys/", views.api_key_list, name="api_keys"),
    path("orgs/<slug:slug>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
