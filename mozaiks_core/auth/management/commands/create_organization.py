"""Operator command: create a team organization owned by an existing user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mozaiks_core.auth.services import ActionRefused, create_organization


class Command(BaseCommand):
    """``manage.py create_organization --name "Acme" --owner-email ada@example.com``."""

    help = "Create an organization and make an existing user its owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Organization name (1–120 characters).")
        parser.add_argument("--owner-email", required=True, help="Email of an existing user who becomes owner.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(email__iexact=options["owner_email"].strip()).first()
        if owner is None:
            raise CommandError(
                f"No user has the email {options['owner_email']!r}; create the account first (sign up)."
            )
        try:
            organization = create_organization(name=options["name"], owner=owner)
        except ActionRefused as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"created {organization.name!r} (id {organization.pk}, slug {organization.slug})")
