"""``manage.py sync_plans``: copy config/subscriptions.yaml into the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mozaiks_core.billing.catalog import CatalogError, catalog_path, load_catalog
from mozaiks_core.billing.services import sync_plans


class Command(BaseCommand):
    """Validate the plans catalog and sync it; errors name the file, key path and fix."""

    help = "Sync plans from the app workspace's config/subscriptions.yaml into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--force`` overwrites admin edits."""
        parser.add_argument("--force", action="store_true",
                            help="Also overwrite plans that were edited in the admin.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Load, validate and sync; a broken or missing file is a CommandError naming the problems."""
        try:
            catalog = load_catalog()
        except CatalogError as exc:
            raise CommandError("the plans catalog has errors:\n" + "\n".join(f"  {p}" for p in exc.problems)) from exc
        if catalog is None:
            raise CommandError(f"no plans catalog at {catalog_path()}; create it (see docs/billing.md).")
        report = sync_plans(catalog, force=options["force"])
        self.stdout.write(self.style.SUCCESS(f"{len(catalog.plans)} plans in {catalog.path}: {report}"))
