"""Pages of the notifications pack."""

from django.urls import path

from mozaiks_core.packs.notifications.views import notifications_page

app_name = "mozaiks_notifications"
urlpatterns = [path("notifications/", notifications_page, name="list")]
