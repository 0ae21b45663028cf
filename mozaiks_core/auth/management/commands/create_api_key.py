"""Operator command: create an API key for an organization and print it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mozaiks_core.auth.api_keys import SCOPES, create_api_key
from mozaiks_core.auth.models import Membership
from mozaiks_core.auth.services import ActionRefused, parse_id


class Command(BaseCommand):
    """``manage.py create_api_key --organization acme --name "CI" --scopes read,write``."""

    help = "Create an API key for an organization (acting as its first owner) and print the secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="Organization id or slug.")
        parser.add_argument("--name", required=True, help="What uses the key.")
        parser.add_argument("--scopes", default="", help=f"Comma-separated: {', '.join(SCOPES)} (default read,write).")

    def handle(self, *args: Any, **options: Any) -> None:
        selector = options["organization"].strip()
        owners = Membership.objects.select_related("organization", "user").filter(role=Membership.Role.OWNER)
        if selector.isdigit():
            owner = owners.filter(organization_id=parse_id(selector)).order_by("created_at").first()
        else:
            owner = owners.filter(organization__slug=selector).order_by("created_at").first()
        if owner is None:
            raise CommandError(f"No organization with id or slug {selector!r} (or it has no owner); check the admin.")
        try:
            created = create_api_key(owner, name=options["name"], scopes=options["scopes"] or None)
        except ActionRefused as error:
            raise CommandError(error.message) from None
        self.stderr.write(f"API key {created.api_key.prefix}… for {owner.organization.name}; shown once, store it now:")
        self.stdout.write(created.secret)
