"""Create the demo data the README describes (development only)."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_USERS = [
    # (email, password, is_staff): printed by `make run`; refused when DEBUG is false.
    ("demo@example.com", "demo-password-123", False),
    ("admin@example.com", "admin-password-123", True),
]


class Command(BaseCommand):
    """Idempotently create the demo user and the demo operator."""

    help = "Create demo@example.com (end user) and admin@example.com (operator) for local development."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="where the server will listen, for the sign-in instructions")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("mozaiks_demo creates accounts with published passwords; it only runs with DEBUG=true.")
        user_model = get_user_model()
        for email, password, is_staff in DEMO_USERS:
            user = user_model.objects.filter(email=email).first()
            if user is None:
                user = user_model.objects.create_user(username=email, email=email, password=password)
            user.is_staff = user.is_superuser = is_staff
            user.save(update_fields=["is_staff", "is_superuser"])
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            self.stdout.write(f"demo account: {email} / {password}{' (admin)' if is_staff else ''}")
        url = options["url"].rstrip("/")
        self.stdout.write(f"Sign in at {url}/accounts/login/ with demo@example.com / demo-password-123 "
                          f"(the operator admin is at {url}/admin/ as admin@example.com / admin-password-123).")
