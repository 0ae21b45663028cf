"""``admin.yaml``: register a module's models in the Django admin without writing ``admin.py``."""

from __future__ import annotations

import logging

from django.apps import apps
from django.contrib import admin

from mozaiks_core.plugins.specs import Workspace

logger = logging.getLogger(__name__)


def register_declared_admins(workspace: Workspace) -> list[str]:
    """Register every ``admin.yaml`` model that the module's own ``admin.py`` did not register."""
    registered = []
    for module in workspace.modules.values():
        for declared in module.admin_models:
            try:
                model = apps.get_model(module.id, declared["model"])
            except LookupError:
                logger.error("admin.yaml of module %s names unknown model %s", module.id, declared["model"])
                continue
            if admin.site.is_registered(model):
                continue
            options = {key: tuple(declared[key]) for key in ("list_display", "list_filter", "search_fields")
                       if declared.get(key)}
            admin.site.register(model, type(f"{model.__name__}Admin", (admin.ModelAdmin,), options))
            registered.append(model._meta.label)
    return registered
