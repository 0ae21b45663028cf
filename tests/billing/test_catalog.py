"""The plans catalog: parsing, precise errors, sync into the database and the sync_plans command."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from mozaiks_core.billing.catalog import CatalogError, load_catalog, parse_catalog_text
from mozaiks_core.billing.models import Plan
from mozaiks_core.billing.services import sync_plans
from mozaiks_core.validation import run_validators
from tests.billing.support import TEST_CATALOG


def _problems(text: str) -> dict[str, str]:
    catalog, problems = parse_catalog_text(text, "subs.yaml")
    assert catalog is None
    assert all(problem.file == "subs.yaml" and problem.hint for problem in problems)
    return {problem.path: problem.message for problem in problems}


def test_the_test_catalog_parses_into_plans_prices_features_limits_and_meters() -> None:
    catalog, problems = parse_catalog_text(TEST_CATALOG, "subs.yaml")
    assert catalog is not None
    assert problems == []
    pro = catalog.plans[1]
    assert (catalog.default_plan_id, pro.plan_id, pro.trial_days) == ("free", "pro", 14)
    assert pro.prices[0].amount == "29"
    assert pro.prices[1].amount == "290"
    assert pro.prices[0].provider_price_id == "price_pro_month"
    assert pro.meters["tokens_monthly"].provider_event_name == "mozaiks_tokens"
    assert catalog.plans[0].meters["searches_daily"].soft


def test_yaml_syntax_errors_name_the_line() -> None:
    problems = _problems("default_plan_id: free\nplans: [\n")
    assert any(path.startswith("line ") for path in problems)


@pytest.mark.parametrize(("text", "path", "fragment"), [
    ("default_plan_id: gold\nplans:\n  - plan_id: free\n", "default_plan_id", "not a declared plan"),
    ("plans:\n  - plan_id: free\n", "default_plan_id", "missing"),
    ("default_plan_id: free\nplans: []\n", "plans", "no plans"),
    ("default_plan_id: free\nplans:\n  - plan_id: Free Plan\n", "plans[0].plan_id", "not a valid key"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n  - plan_id: free\n", "plans[1].plan_id", "declared twice"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    meters: {t: {limit: -1}}\n", "plans[0].meters.t.limit",
     "not a whole number"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    meters: {t: {limit: 5, reset: fortnight}}\n",
     "plans[0].meters.t.reset", "not a period"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    meters: {t: {limit: 5, enforcement: maybe}}\n",
     "plans[0].meters.t.enforcement", "unknown"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    features: {x: yes please}\n", "plans[0].features.x",
     "not true/false"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    prices: [{interval: month, amount: -3, currency: usd}]\n",
     "plans[0].prices[0].amount", "non-negative"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    prices: [{interval: decade, amount: 3, currency: usd}]\n",
     "plans[0].prices[0].interval", "unknown"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    colour: blue\n", "plans[0].colour", "unknown plan setting"),
    ("default_plan_id: free\nplans:\n  - plan_id: free\n    features: {x: true}\n    limits: {x: 3}\n", "plans[0]",
     "more than one"),
])
def test_malformed_catalogs_are_reported_with_file_key_path_and_fix(text: str, path: str, fragment: str) -> None:
    problems = _problems(text)
    assert path in problems, problems
    assert fragment in problems[path]


def test_load_catalog_raises_with_every_error(tmp_path: Path) -> None:
    path = tmp_path / "subscriptions.yaml"
    path.write_text("default_plan_id: nope\nplans:\n  - plan_id: free\n    trial_days: -1\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert {problem.path for problem in caught.value.problems} == {"default_plan_id", "plans[0].trial_days"}


def test_the_demo_catalog_was_synced_on_migrate_and_the_validator_is_registered(db) -> None:
    assert list(Plan.objects.values_list("plan_id", flat=True)) == ["free", "pro", "team"]
    assert Plan.objects.get(is_default=True).plan_id == "free"
    assert not [problem for problem in run_validators() if problem.code.startswith("billing")]


def test_sync_keeps_admin_edits_unless_forced_and_deactivates_removed_plans(db) -> None:
    catalog, _ = parse_catalog_text(TEST_CATALOG, "subs.yaml")
    sync_plans(catalog, force=True)
    Plan.objects.filter(plan_id="pro").update(label="Pro (edited)", managed_by_file=False)
    Plan.objects.create(plan_id="legacy", label="Legacy")
    report = sync_plans(catalog)
    assert report.kept_admin_edits == ["pro"]
    assert report.deactivated == ["legacy"]
    assert Plan.objects.get(plan_id="pro").label == "Pro (edited)"
    assert not Plan.objects.get(plan_id="legacy").active
    sync_plans(catalog, force=True)
    assert Plan.objects.get(plan_id="pro").label == "Pro"


def test_the_sync_plans_command_syncs_and_refuses_a_broken_file(db, tmp_path: Path, settings) -> None:
    (tmp_path / "config").mkdir()
    settings.MOZAIKS_APP_DIR = tmp_path
    (tmp_path / "config" / "subscriptions.yaml").write_text(TEST_CATALOG)
    call_command("sync_plans", "--force")
    assert Plan.objects.filter(active=True).count() == 3
    (tmp_path / "config" / "subscriptions.yaml").write_text("default_plan_id: free\nplans: nope\n")
    with pytest.raises(CommandError, match=r"plans: no plans declared"):
        call_command("sync_plans")


def test_an_admin_edit_with_invalid_json_is_rejected_by_model_validation(db) -> None:
    from django.core.exceptions import ValidationError

    plan = Plan.objects.get(plan_id="free")
    plan.meters = {"tokens_monthly": {"limit": 10, "reset": "sometimes"}}
    with pytest.raises(ValidationError, match="reset"):
        plan.full_clean()


@pytest.mark.parametrize(("written", "shown"), [("29", "29"), ("29.9", "29.90"), ("290.00", "290"), ("1e2", "100")])
def test_prices_are_kept_as_plain_decimal_text(written: str, shown: str) -> None:
    text = ("default_plan_id: f\nplans:\n  - plan_id: f\n"
            f"    prices: [{{interval: month, amount: {written}, currency: EUR}}]\n")
    catalog, _ = parse_catalog_text(text, "subs.yaml")
    assert catalog is not None
    assert (catalog.plans[0].prices[0].amount, catalog.plans[0].prices[0].currency) == (shown, "eur")


def test_a_broken_catalog_is_reported_by_validate_and_never_breaks_migrate(db, tmp_path: Path, settings,
                                                                           caplog) -> None:
    from django.apps import apps

    from mozaiks_core.billing.apps import sync_catalog_after_migrate

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "subscriptions.yaml").write_text("default_plan_id: free\nplans:\n  - plan_id: 7\n")
    settings.MOZAIKS_APP_DIR = tmp_path
    problems = [problem for problem in run_validators() if problem.code == "billing.catalog"]
    assert {problem.path for problem in problems} >= {"plans[0].plan_id", "default_plan_id"}
    assert all(problem.file.endswith("subscriptions.yaml") for problem in problems)
    sync_catalog_after_migrate(apps.get_app_config("mozaiks_billing"))
    assert "plans catalog not synced" in caplog.text
    assert Plan.objects.filter(active=True).count() == 3  # the previous plans stay in force


BAD_CATALOG = """
default_plan_id: free
entitlements:
  limits:
    members: {label: Seats, unit: seat}
  meters:
    tokens_monthly: {label: AI tokens}
plans:
  - plan_id: free
    label: Free
    prices:
      - {interval: month, amount: 0}
    limits:
      membres: 3
      members: -1
    meters:
      tokens_monthly: {limit: 100}
"""


def test_manage_py_check_fails_on_a_broken_catalog_naming_file_key_path_and_fix(tmp_path: Path, settings) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "subscriptions.yaml").write_text(BAD_CATALOG)
    settings.MOZAIKS_APP_DIR = tmp_path
    with pytest.raises(SystemCheckError) as failed:
        call_command("check")
    report = str(failed.value)
    file = str(tmp_path / "config" / "subscriptions.yaml")
    for fragment in [
        f"{file}:plans[0].limits.membres: unknown limit key 'membres'",
        "HINT: declare it under entitlements.limits with a label, or use one of: members",
        f"{file}:plans[0].limits.members: -1 is not a whole number",
        f"{file}:plans[0].meters.tokens_monthly.reset: the meter has no reset period",
        "HINT: add reset: month",
        f"{file}:plans[0].prices[0].currency: the price has no currency",
        "HINT: add currency: usd",
    ]:
        assert fragment in report, fragment


def test_every_key_of_the_entitlements_section_needs_a_label() -> None:
    _, problems = parse_catalog_text(
        "default_plan_id: free\nentitlements: {features: {chat: {description: x}}}\n"
        "plans: [{plan_id: free, label: Free, features: {chat: true}}]\n", "subs.yaml")
    assert [(problem.path, problem.message) for problem in problems] == [
        ("entitlements.features.chat.label", "the key has no label")]
