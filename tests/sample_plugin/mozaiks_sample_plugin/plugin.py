"""Two plugin declarations: one compatible with MozaiksCore 0.1, one too old to load."""

from __future__ import annotations

from typing import Any

from mozaiks_core.plugins.plugin_host import MozaiksPlugin

# This module is imported at settings time: it must not import Django models or django-ninja.


def remember_event(envelope: dict[str, Any]) -> None:
    """A plugin reaction: keeps the event types it saw in the cache."""
    from django.core.cache import cache

    cache.set("sample-plugin-last-event", envelope["event_type"], 60)


class SamplePlugin(MozaiksPlugin):
    """Compatible: MozaiksCore 0.1 to 0.9."""

    name = "sample"
    version = "1.0.0"
    min_version = "0.1.0"
    max_version = "0.9.0"
    required_settings = ["api_token"]
    default_settings = {"greeting": "hello"}
    navigation = [{"label": "Sample plugin", "href": "/api/plugins/sample/hello", "auth": "public"}]
    django_app = "mozaiks_sample_plugin"
    api_router = "mozaiks_sample_plugin.api:router"
    template_slots = {"shell.footer": "sample/footer.html"}
    reactions = [{"id": "remember", "on": "domain.tasks.*", "handler": "mozaiks_sample_plugin.plugin:remember_event"}]


class AncientPlugin(MozaiksPlugin):
    """Written for MozaiksCore 0.0.x: skipped with a warning."""

    name = "ancient"
    version = "0.0.1"
    max_version = "0.0.9"
