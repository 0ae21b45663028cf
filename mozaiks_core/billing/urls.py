"""Page and webhook URLs of the billing app (mounted at ``/billing/``)."""

from __future__ import annotations

from django.urls import path

from mozaiks_core.billing import views

app_name = "mozaiks_billing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("pricing/", views.pricing, name="pricing"),
    path("checkout/", views.checkout, name="checkout"),
    path("portal/", views.portal, name="portal"),
    path("cancel/", views.cancel, name="cancel"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe-webhook"),
]
