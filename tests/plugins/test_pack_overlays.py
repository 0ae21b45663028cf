"""A pack's app_overlay/ is promoted through the factory path with its provenance, and the hosted-pack
facade path (integration client → app-owned facade module → page) works with a faked client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model

from mozaiks_core.auth.services import ensure_personal_organization
from mozaiks_core.plugins.actions import run_action
from mozaiks_core.plugins.factory import promotion, staging
from mozaiks_core.plugins.registry import get_workspace
from tests.plugins.conftest import build_workspace, load, write

pytestmark = pytest.mark.django_db

CLIENT_TEMPLATE = '''"""Thin client of the hosted analytics service (the engine lives in the hosted product)."""

import json
import urllib.request


class HostedAnalyticsClient:
    base_url = "https://analytics.hosted.example"

    def fetch_metrics(self):
        with urllib.request.urlopen(f"{self.base_url}/v1/metrics", timeout=5) as response:
            return json.load(response)
'''
FACADE_HANDLER = '''from .integrations.hosted_analytics_client import HostedAnalyticsClient


class AnalyticsDashboardHandler:
    """The app-owned facade: pages call it, it calls the integration client."""

    def get_metrics(self, ctx, data):
        metrics = HostedAnalyticsClient().fetch_metrics()
        return {"visitors": metrics["visitors"], "source": "hosted_analytics"}
'''


def hosted_pack(root: Path) -> Path:
    pack = root / "hosted_analytics"
    write(pack / "manifest.yaml", {
        "schema_version": "mozaiks.capability_pack.v1", "capability_pack_id": "hosted_analytics",
        "label": "Hosted analytics", "summary": "Dashboards over the hosted analytics service.",
        "visibility": "licensed", "pack_type": "analytics_pack", "implementation_mode": "external_integration",
        "delivery_mode": "hosted_service", "capability_source": "hosted_pack",
        "requires": {"licensed_services": ["hosted_analytics"], "connectors": []},
        "contributes": {"modules": ["analytics_dashboard"], "pages": ["analytics"]},
        "adapter_template": "templates/hosted_analytics_client.py"})
    write(pack / "templates" / "hosted_analytics_client.py", CLIENT_TEMPLATE)
    facade = pack / "app_overlay" / "modules" / "analytics_dashboard"
    write(facade / "module.yaml", {
        "schema_version": "mozaiks.module.v1",
        "module": {"id": "analytics_dashboard", "version": "1.0.0", "capability_source": "generated_module",
                   "handler": "backend.handler:AnalyticsDashboardHandler"},
        "actions": [{"id": "get_metrics", "handler_method": "get_metrics", "output_schema": {"type": "object"}}]})
    write(facade / "backend" / "handler.py", FACADE_HANDLER)
    write(pack / "app_overlay" / "ui" / "pages" / "analytics.yaml", {
        "id": "analytics", "title": "Analytics", "route": "/analytics", "blocks": [
            {"type": "table", "source": {"module": "analytics_dashboard", "action": "get_metrics"},
             "columns": [{"key": "visitors"}]}]})
    return root


@pytest.fixture
def overlay_live(tmp_path: Path, settings: Any) -> Path:
    live = build_workspace(tmp_path / "app", packs=["notifications", "hosted_analytics"])
    settings.MOZAIKS_APP_DIR = live
    settings.MOZAIKS_STAGING_DIR = tmp_path / "staging"
    settings.MOZAIKS_PACK_ROOTS = [str(hosted_pack(tmp_path / "packs"))]
    settings.MOZAIKS_LICENSED_SERVICES = ["hosted_analytics"]
    return live


def test_a_pack_with_an_overlay_must_be_promoted_before_it_contributes(overlay_live: Path, tmp_path: Path) -> None:
    workspace = load(overlay_live, pack_roots=[tmp_path / "packs"], licensed_services=["hosted_analytics"])
    problem = next(p for p in workspace.errors() if p.code == "mozaiks.E014")
    assert problem.path == "contributes.modules[0]"
    assert "mozaiks stage --pack hosted_analytics" in problem.hint
    assert "analytics_dashboard" not in workspace.modules


def test_a_promoted_overlay_keeps_its_source_pack_and_the_facade_calls_the_faked_client(
        overlay_live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    change = staging.stage_pack_overlay("hosted_analytics")
    assert change.status == "staged", change.problems
    assert (change.origin, change.source_pack_id) == ("pack", "hosted_analytics")
    paths = {entry["path"] for entry in change.files}
    assert "modules/analytics_dashboard/backend/integrations/hosted_analytics_client.py" in paths
    assert not (overlay_live / "modules" / "analytics_dashboard").exists()

    staging.approve(change, None)
    promotion.promote(change, None)

    provenance = yaml.safe_load((overlay_live / "provenance.yaml").read_text())
    assert provenance["source_packs"]["modules/analytics_dashboard"] == "hosted_analytics"
    workspace = get_workspace()
    assert workspace.errors() == []
    facade = workspace.modules["analytics_dashboard"]
    assert (facade.source_pack_id, facade.ownership) == ("hosted_analytics", "generated_module")
    assert workspace.pages["analytics"].source_pack_id == "hosted_analytics"

    from mozaiks_modules.analytics_dashboard.backend.integrations import hosted_analytics_client

    monkeypatch.setattr(hosted_analytics_client.HostedAnalyticsClient, "fetch_metrics",
                        lambda self: {"visitors": 42})
    owner = get_user_model().objects.create_user(username="ada", email="ada@example.com", password="pw-123456789")
    result = run_action("analytics_dashboard", "get_metrics", {}, user=owner,
                        organization=ensure_personal_organization(owner), role="owner")
    assert result == {"visitors": 42, "source": "hosted_analytics"}
