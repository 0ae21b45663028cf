"""The factory path: stage → validate → review → promote, and every bad input refused with nothing written."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from mozaiks_core.plugins.factory import promotion, staging
from mozaiks_core.plugins.factory.artifacts import ArtifactRefused
from mozaiks_core.plugins.models import StagedChange
from mozaiks_core.runtime.bundles import get_registry
from tests.plugins.conftest import REPO_ROOT, write

pytestmark = pytest.mark.django_db

GREETER = {
    "workflows/Greeter/orchestrator.yaml": {"workflow_name": "Greeter", "max_turns": 4, "human_in_the_loop": True,
                                            "startup_mode": "AgentDriven", "orchestration_pattern": "DefaultPattern",
                                            "initial_message": "Greet the user.", "initial_agent": "GreeterAgent"},
    "workflows/Greeter/agents.yaml": {"agents": [{"name": "GreeterAgent", "system_message": "Greet the user."}]},
    "workflows/Greeter/handoffs.yaml": {"handoff_rules": [{"source_agent": "GreeterAgent", "target_agent": "terminate",
                                                           "handoff_type": "after_work"}]},
    "workflows/Greeter/scripted_model.yaml": {"turns": [{"agent": "GreeterAgent", "say": "Hello from Greeter!"}]},
    "ui/pages/greeter.yaml": {"id": "greeter", "title": "Greeter", "route": "/greeter", "auth": "public",
                              "blocks": [{"type": "markdown", "content": "# The greeter page"}]},
}


def tree_hash(root: Path) -> str:
    """One hash of every path and byte under ``root`` (the live workspace must stay byte-identical)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def live(tmp_path: Path, settings: Any) -> Path:
    """A copy of the demo workspace as the live one, and a fresh staging area."""
    app = tmp_path / "live" / "app"
    shutil.copytree(REPO_ROOT / "app", app, ignore=shutil.ignore_patterns("__pycache__", ".mozaiks"))
    settings.MOZAIKS_APP_DIR = app
    settings.MOZAIKS_STAGING_DIR = tmp_path / "staging"
    return app


@pytest.fixture
def operator() -> Any:
    return get_user_model().objects.create_user(username="op", email="op@example.com", password="pw-123456789",
                                                is_staff=True, is_superuser=True)


def artifacts(root: Path, files: dict[str, Any]) -> Path:
    for name, data in files.items():
        write(root / name, data)
    return root


def zip_of(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return path


def test_a_staged_workflow_and_page_are_reviewed_promoted_and_served_without_a_restart(
        live: Path, tmp_path: Path, operator: Any) -> None:
    before = tree_hash(live)
    assert get_registry().get("Greeter") is None
    change = staging.stage_source(artifacts(tmp_path / "build", GREETER), label="greeter", user=operator)

    assert change.status == StagedChange.Status.STAGED, change.problems
    assert {entry["path"]: entry["change"] for entry in change.files} == dict.fromkeys(GREETER, "added")
    assert tree_hash(live) == before, "staging wrote to the live workspace"
    assert "+  content: '# The greeter page'" in staging.file_diff(change, "ui/pages/greeter.yaml")
    with pytest.raises(staging.ReviewError, match="approve it before promoting"):
        promotion.promote(change, operator)

    staging.approve(change, operator)
    promotion.promote(change, operator)

    change.refresh_from_db()
    assert (change.status, change.reviewed_by, change.promoted_by) == ("promoted", operator, operator)
    assert (live / "workflows/Greeter/orchestrator.yaml").is_file()
    assert get_registry().get("Greeter") is not None
    page = Client().get("/greeter")
    assert page.status_code == 200
    assert b"The greeter page" in page.content


def test_a_rejected_change_leaves_the_live_workspace_byte_identical(live: Path, tmp_path: Path,
                                                                   operator: Any) -> None:
    before = tree_hash(live)
    change = staging.stage_source(artifacts(tmp_path / "build", GREETER), label="greeter", user=operator)
    staging.reject(change, operator, "not now")
    with pytest.raises(staging.ReviewError):
        promotion.promote(change, operator)
    change.refresh_from_db()
    assert (change.status, change.reviewed_by, change.review_reason) == ("rejected", operator, "not now")
    assert tree_hash(live) == before


def test_a_write_failing_halfway_through_promotion_restores_every_file(
        live: Path, tmp_path: Path, operator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {**GREETER, "app.json": (live / "app.json").read_text().replace("Mozaiks Demo", "Renamed")}
    change = staging.stage_source(artifacts(tmp_path / "build", files), label="two", user=operator)
    staging.approve(change, operator)
    before = tree_hash(live)
    real_replace, calls = os.replace, []

    def failing_replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError("disk full")
        real_replace(source, target)

    monkeypatch.setattr(promotion.os, "replace", failing_replace)
    with pytest.raises(promotion.PromotionFailed, match="disk full"):
        promotion.promote(change, operator)
    monkeypatch.setattr(promotion.os, "replace", real_replace)
    assert tree_hash(live) == before
    change.refresh_from_db()
    assert change.status == "failed"


def test_promotion_validates_again_against_the_live_workspace_as_it_is_now(live: Path, tmp_path: Path,
                                                                           operator: Any) -> None:
    page = {"ui/pages/list.yaml": {"id": "list", "title": "List", "route": "/list", "blocks": [
        {"type": "table", "source": {"module": "tasks", "action": "list_tasks"}, "columns": [{"key": "title"}]}]}}
    change = staging.stage_source(artifacts(tmp_path / "build", page), label="list", user=operator)
    staging.approve(change, operator)
    shutil.rmtree(live / "modules" / "tasks")
    before = tree_hash(live)
    with pytest.raises(promotion.PromotionFailed, match="no longer validates"):
        promotion.promote(change, operator)
    assert tree_hash(live) == before


def _refused(live: Path, source: Path) -> ArtifactRefused:
    before = tree_hash(live)
    with pytest.raises(ArtifactRefused) as refused:
        staging.stage_source(source, label="bad")
    assert tree_hash(live) == before
    assert not StagedChange.objects.exists()
    return refused.value


@pytest.mark.parametrize(("name", "reason"), [
    ("../escape.yaml", "leaves the staging root"),
    ("ui/../../escape.yaml", "leaves the staging root"),
    ("/etc/cron.d/evil", "absolute paths are refused"),
    ("C:/evil.py", "absolute paths are refused"),
    ("secrets/leak.txt", "'secrets' is not part of the app workspace"),
])
def test_an_archive_path_escaping_the_root_is_refused_with_the_file_and_the_reason(
        live: Path, tmp_path: Path, name: str, reason: str) -> None:
    archive = zip_of(tmp_path / "bad.zip", {"ui/pages/ok.yaml": b"id: ok\n", name: b"x"})
    refused = _refused(live, archive)
    assert refused.file == f"bad.zip:{name}"
    assert reason in refused.reason


def test_symlinks_are_refused_in_tar_archives_zip_archives_and_folders(live: Path, tmp_path: Path) -> None:
    tar_path = tmp_path / "link.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        link = tarfile.TarInfo("ui/pages/evil.yaml")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    assert "symlinks and hard links are refused" in _refused(live, tar_path).reason

    zip_path = tmp_path / "link.zip"
    with zipfile.ZipFile(zip_path, "w") as bundle:
        info = zipfile.ZipInfo("ui/pages/evil.yaml")
        info.external_attr = (0o120777 << 16)
        bundle.writestr(info, "/etc/passwd")
    assert "symlinks are refused" in _refused(live, zip_path).reason

    folder = artifacts(tmp_path / "build", {"ui/pages/ok.yaml": "id: ok\n"})
    (folder / "ui" / "pages" / "evil.yaml").symlink_to("/etc/passwd")
    refused = _refused(live, folder)
    assert refused.file.endswith(":ui/pages/evil.yaml")
    assert "symlinks are refused" in refused.reason


def test_a_one_gigabyte_archive_is_refused_before_it_is_opened(live: Path, tmp_path: Path) -> None:
    archive = tmp_path / "huge.zip"
    with archive.open("wb") as handle:
        handle.truncate(1024 ** 3)  # sparse: no disk used
    refused = _refused(live, archive)
    assert "over the limit" in refused.reason
    assert "it was not opened" in refused.reason


def test_an_archive_whose_headers_declare_more_than_the_limit_is_refused_before_extraction(
        live: Path, tmp_path: Path, settings: Any) -> None:
    settings.MOZAIKS_STAGING_MAX_BYTES = 64 * 1024
    archive = zip_of(tmp_path / "bomb.zip", {"ui/pages/bomb.yaml": b"\0" * (4 * 1024 * 1024)})
    assert archive.stat().st_size < 64 * 1024
    refused = _refused(live, archive)
    assert "4194304 bytes, over the limit of 65536" in refused.reason
    assert "nothing was extracted" in refused.reason


def _invalid(live: Path, tmp_path: Path, files: dict[str, Any], operator: Any) -> StagedChange:
    before = tree_hash(live)
    change = staging.stage_source(artifacts(tmp_path / "build", files), label="bad", user=operator)
    assert change.status == StagedChange.Status.INVALID
    with pytest.raises(staging.ReviewError, match="only a staged change that passed validation"):
        staging.approve(change, operator)
    assert tree_hash(live) == before
    return change


def test_a_bundle_failing_validation_cannot_be_approved(live: Path, tmp_path: Path, operator: Any) -> None:
    files = {**GREETER, "workflows/Greeter/agents.yaml": {"agents": []}}
    change = _invalid(live, tmp_path, files, operator)
    errors = [problem for problem in change.problems if problem["level"] == "error"]
    assert errors
    assert all(problem["file"].startswith("workflows/Greeter/") for problem in errors), errors


def test_a_pack_whose_licensed_service_is_missing_is_refused(live: Path, tmp_path: Path, operator: Any,
                                                             settings: Any) -> None:
    root = tmp_path / "packs"
    write(root / "insights" / "manifest.yaml", {
        "schema_version": "mozaiks.capability_pack.v1", "capability_pack_id": "insights", "label": "Insights",
        "visibility": "licensed", "requires": {"licensed_services": ["insights-api"]}})
    settings.MOZAIKS_PACK_ROOTS = [str(root)]
    app_json = yaml.safe_load((live / "app.json").read_text())
    app_json["capability_packs"] = [*app_json["capability_packs"], "insights"]
    change = _invalid(live, tmp_path, {"app.json": app_json}, operator)
    problem = next(p for p in change.problems if p["code"] == "mozaiks.E008")
    assert problem["file"] == "app.json"
    assert "insights-api" in problem["message"]


def test_two_artifacts_claiming_the_same_workflow_name_are_refused(live: Path, tmp_path: Path,
                                                                   operator: Any) -> None:
    twin = {name.replace("workflows/Greeter/", "workflows/GreeterTwo/"): data
            for name, data in GREETER.items() if name.startswith("workflows/")}
    change = _invalid(live, tmp_path, {**GREETER, **twin}, operator)
    problem = next(p for p in change.problems if p["code"] == "mozaiks.E030")
    assert problem["file"].endswith("workflows/GreeterTwo/orchestrator.yaml"), problem
    assert "'Greeter'" in problem["message"]
    assert "workflows/Greeter/orchestrator.yaml" in problem["message"]


def test_the_command_stages_approves_and_promotes_and_prints_what_it_did(live: Path, tmp_path: Path,
                                                                        operator: Any) -> None:
    out = io.StringIO()
    call_command("mozaiks", "stage", str(artifacts(tmp_path / "build", GREETER)), "--user", "op", stdout=out)
    change = StagedChange.objects.get()
    assert f"Staged change #{change.pk}" in out.getvalue()
    assert "added     ui/pages/greeter.yaml" in out.getvalue()
    call_command("mozaiks", "approve", str(change.pk), "--user", "op", stdout=out)
    call_command("mozaiks", "promote", str(change.pk), "--user", "op", stdout=out)
    assert f"Promoted staged change #{change.pk}" in out.getvalue()
    assert get_registry().get("Greeter") is not None

    bad = zip_of(tmp_path / "bad.zip", {"../../evil.py": b"x"})
    with pytest.raises(CommandError, match=r"refused: bad.zip:../../evil.py: the path leaves the staging root"):
        call_command("mozaiks", "stage", str(bad), stdout=out)


def test_the_admin_shows_the_per_file_diff_and_records_who_approved_and_promoted(
        live: Path, tmp_path: Path, operator: Any) -> None:
    change = staging.stage_source(artifacts(tmp_path / "build", GREETER), label="greeter")
    client = Client()
    client.force_login(operator)
    page = client.get(f"/admin/mozaiks_plugins/stagedchange/{change.pk}/change/")
    assert page.status_code == 200
    assert b"added <code>ui/pages/greeter.yaml</code>" in page.content
    assert b"+++ staged/ui/pages/greeter.yaml" in page.content

    listing = "/admin/mozaiks_plugins/stagedchange/"
    for action in ("approve_changes", "promote_changes"):
        response = client.post(listing, {"action": action, "_selected_action": [change.pk]}, follow=True)
        assert response.status_code == 200
    change.refresh_from_db()
    assert (change.status, change.reviewed_by, change.promoted_by) == ("promoted", operator, operator)
    assert get_registry().get("Greeter") is not None


def test_another_process_reloads_pages_and_workflows_when_the_revision_stamp_changes(
        live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mozaiks_core import workspace_info
    from mozaiks_core.plugins.registry import get_workspace

    assert get_workspace().page_for_route("/greeter") is None
    assert get_registry().get("Greeter") is None
    for name, data in GREETER.items():  # what a promotion in another process leaves on the shared disk
        write(live / name, data)
    assert get_workspace().page_for_route("/greeter") is None  # memory only until the signal
    monkeypatch.setattr(workspace_info, "REVISION_CHECK_SECONDS", 0.0)
    write(live / ".mozaiks" / "revision", "from-another-process\n")
    assert get_workspace().page_for_route("/greeter") is not None
    assert get_registry().get("Greeter") is not None
