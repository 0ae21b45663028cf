"""Pages of the audit pack."""

from django.urls import path

from mozaiks_core.packs.audit.views import current_activity, organization_activity

app_name = "mozaiks_audit"
urlpatterns = [
    path("activity/", current_activity, name="activity"),
    path("organizations/<slug:slug>/activity/", organization_activity, name="organization-activity"),
]
