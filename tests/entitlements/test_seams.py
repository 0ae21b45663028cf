"""The runtime's seams: token budget, run permission, capabilities — end to end with the local adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from mozaiks_core.billing.services import start_checkout
from mozaiks_core.entitlements import capabilities as capabilities_module
from mozaiks_core.entitlements.models import UsageCounter
from mozaiks_core.entitlements.services import (
    capabilities_for,
    check_run_allowed,
    check_token_budget,
    meter_llm_tokens,
    resolve_capability,
)
from tests.billing.support import make_member

pytestmark = pytest.mark.usefixtures("plans")

CAPABILITIES = """
capabilities:
  - id: export
    workflow: ExportChats
    label: Export chats
    entitlement: export_chats
  - id: audit
    workflow: AuditDesk
    label: Audit desk
    visibility: admin
    plans: [team]
  - id: retired
    workflow: OldFlow
    enabled: false
"""
WORKFLOWS = ["ExportChats", "AuditDesk", "OldFlow", "Welcome"]


@pytest.fixture
def workspace(tmp_path: Path, settings):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "capabilities.yaml").write_text(CAPABILITIES)
    settings.MOZAIKS_APP_DIR = tmp_path
    capabilities_module._cache.clear()
    yield tmp_path
    capabilities_module._cache.clear()


def test_a_free_plans_exhausted_token_budget_refuses_runs_until_an_upgrade_lifts_it(db) -> None:
    user, org = make_member("budget@example.com")
    assert check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id="chat-0").allowed
    first = meter_llm_tokens(organization=org, user=user, total_tokens=600, transaction_id="chat-0:call-1")
    assert (first.exhausted, first.remaining) == (False, 400)
    retried = meter_llm_tokens(organization=org, user=user, total_tokens=600, transaction_id="chat-0:call-1")
    assert retried.remaining == 400  # the same call reported twice counts once
    second = meter_llm_tokens(organization=org, user=user, total_tokens=600, transaction_id="chat-0:call-2")
    assert second.exhausted
    assert check_token_budget(organization=org).exhausted

    refused = check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id="chat-1")
    assert (refused.allowed, refused.error_code, refused.http_status) == (False, "TOKEN_BUDGET_EXCEEDED", 402)
    assert refused.details["key"] == "tokens_monthly"
    assert refused.details["upgrade_url"].startswith("/billing/pricing/")

    result = start_checkout(organization=org, user=user, plan_id="pro", interval="month",
                            success_url="/billing/", cancel_url="/billing/pricing/")
    assert result.applied
    budget = check_token_budget(organization=org)
    assert (budget.exhausted, budget.used, budget.limit) == (False, 1200, 100000)
    assert check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id="chat-2").allowed


def test_a_soft_token_meter_warns_instead_of_stopping(db) -> None:
    user, org = make_member("soft@example.com")
    start_checkout(organization=org, user=user, plan_id="team", interval="month", success_url="/", cancel_url="/")
    UsageCounter.objects.all().delete()
    budget = meter_llm_tokens(organization=org, user=user, total_tokens=1_000_001, transaction_id="big-call")
    assert (budget.exhausted, budget.soft_warning) == (False, True)


def test_zero_tokens_record_nothing_and_negative_tokens_are_refused(db) -> None:
    from mozaiks_core.entitlements.services import UsageError

    user, org = make_member("zero@example.com")
    assert meter_llm_tokens(organization=org, user=user, total_tokens=0, transaction_id="z").remaining == 1000
    with pytest.raises(UsageError):
        meter_llm_tokens(organization=org, user=user, total_tokens=-3, transaction_id="neg")


def test_workflow_runs_are_metered_once_per_chat_and_refused_past_the_limit(db) -> None:
    user, org = make_member("runs@example.com")
    for chat in ["a", "b", "c"]:
        assert check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id=chat).allowed
    assert check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id="c").allowed
    refused = check_run_allowed(user=user, organization=org, workflow_name="Welcome", transaction_id="d")
    assert (refused.allowed, refused.error_code, refused.details["key"]) == (
        False, "LIMIT_EXCEEDED", "workflow_runs_monthly")


def test_anonymous_callers_and_missing_organizations_are_refused(db) -> None:
    from django.contrib.auth.models import AnonymousUser

    user, _ = make_member("anon@example.com")
    assert check_run_allowed(user=AnonymousUser(), organization=None, workflow_name="W").error_code == \
        "AUTHENTICATION_REQUIRED"
    assert check_run_allowed(user=user, organization=None, workflow_name="W").error_code == "ORGANIZATION_REQUIRED"


def test_capabilities_yaml_gates_workflows_and_unnamed_workflows_stay_open(db, workspace) -> None:
    owner, org = make_member("caps-owner@example.com")
    member, _ = make_member("caps-member@example.com", organization=org, role="member")
    views = {view.capability_id: view for view in capabilities_for(user=member, organization=org,
                                                                   workflow_names=WORKFLOWS)}
    assert set(views) == {"export", "Welcome"}  # admin-only hidden, disabled hidden
    assert (views["export"].allowed, views["export"].reason) == (False, "ENTITLEMENT_REQUIRED")
    assert views["Welcome"].allowed
    owner_views = {view.capability_id: view for view in capabilities_for(user=owner, organization=org,
                                                                         workflow_names=WORKFLOWS)}
    assert owner_views["audit"].allowed is False
    assert owner_views["audit"].visibility == "admin"

    assert resolve_capability("export", WORKFLOWS) == "ExportChats"
    assert resolve_capability("ExportChats", WORKFLOWS) is None  # named workflows are reached through their ids
    assert resolve_capability("Welcome", WORKFLOWS) == "Welcome"
    assert resolve_capability("ghost", WORKFLOWS) is None

    denied = check_run_allowed(user=member, organization=org, workflow_name="ExportChats", capability_id="export")
    assert (denied.error_code, denied.http_status, denied.details["key"]) == ("ENTITLEMENT_REQUIRED", 402,
                                                                              "export_chats")
    assert check_run_allowed(user=member, organization=org, workflow_name="AuditDesk").error_code == \
        "CAPABILITY_FORBIDDEN"
    assert check_run_allowed(user=owner, organization=org, workflow_name="OldFlow").error_code == \
        "CAPABILITY_DISABLED"
    start_checkout(organization=org, user=owner, plan_id="team", interval="month", success_url="/", cancel_url="/")
    assert check_run_allowed(user=member, organization=org, workflow_name="ExportChats", capability_id="export").allowed
    assert check_run_allowed(user=owner, organization=org, workflow_name="AuditDesk").allowed


def test_a_malformed_capabilities_file_is_reported_precisely() -> None:
    specs, problems = capabilities_module.parse_capabilities_text(
        "capabilities:\n  - id: a\n    visibility: everyone\n  - workflow: B\n  - id: c\n    plans: pro\n", "caps.yaml")
    assert specs == []
    paths = {problem.path for problem in problems}
    assert paths == {"capabilities[0].visibility", "capabilities[1].id", "capabilities[2].plans"}
    assert all(problem.hint for problem in problems)


def test_the_seams_accept_an_organization_id_as_well_as_the_instance(db) -> None:
    user, org = make_member("by-id@example.com")
    meter_llm_tokens(organization=str(org.pk), user=user, total_tokens=1000, transaction_id="by-id")
    assert check_token_budget(organization=org.pk).exhausted
    assert check_run_allowed(user=user, organization=org.pk, workflow_name="Welcome").error_code == \
        "TOKEN_BUDGET_EXCEEDED"
    assert check_token_budget(organization=987654).exhausted  # no such organization: fail closed


def test_a_capability_naming_a_workflow_that_does_not_exist_is_warned_about(db, workspace, settings) -> None:
    from mozaiks_core.runtime.bundles import get_registry

    # The workspace has no bundles for ExportChats, AuditDesk and OldFlow; one exists for Welcome.
    (workspace / "config" / "capabilities.yaml").write_text(
        CAPABILITIES + "  - id: welcome\n    workflow: Welcome\n")
    bundle = workspace / "workflows" / "Welcome"
    bundle.mkdir(parents=True)
    (bundle / "orchestrator.yaml").write_text("workflow_name: Welcome\n")
    (bundle / "agents.yaml").write_text("agents:\n  - name: Greeter\n    system_message: Hi.\n")
    settings.MOZAIKS_WORKFLOW_ROOTS = [str(workspace / "workflows")]
    capabilities_module._cache.clear()
    get_registry(refresh=True)
    try:
        problems = capabilities_module.validate_capabilities_file()
        unknown = sorted(problem.path for problem in problems if "no workflow called" in problem.message)
        assert unknown == ["capabilities[0].workflow", "capabilities[1].workflow", "capabilities[2].workflow"]
        assert all(problem.level == "warning" and problem.hint for problem in problems
                   if "no workflow called" in problem.message)
    finally:
        get_registry(refresh=True)
