"""Template tags of the shell: ``{% mozaiks_slot "name" %}`` renders every plugin template for a slot."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from mozaiks_core.plugins.registry import loaded_plugins

register = template.Library()


@register.simple_tag(takes_context=True)
def mozaiks_slot(context: Any, name: str) -> SafeString:
    """Concatenate the templates that loaded plugins register for slot ``name``."""
    request = context.get("request")
    parts = [render_to_string(loaded.plugin.template_slots[name], {"plugin": loaded}, request=request)
             for loaded in loaded_plugins()
             if loaded.status == "loaded" and loaded.plugin is not None and name in loaded.plugin.template_slots]
    return mark_safe("".join(parts))  # noqa: S308 (rendered templates, autoescaped)
