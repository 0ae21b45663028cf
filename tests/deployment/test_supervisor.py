"""The Procfile supervisor behind `make run-scaled`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mozaiks_core.supervisor import expand, parse_procfile

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_procfile_variables_expand_with_defaults_and_overrides() -> None:
    assert expand("--port ${PORT:-8001}", {}) == "--port 8001"
    assert expand("--port ${PORT:-8001}", {"PORT": "9000"}) == "--port 9000"
    assert expand("${MISSING}", {}) == ""


def test_the_shipped_procfile_runs_two_web_processes_two_workers_and_beat() -> None:
    specs = parse_procfile(REPO_ROOT / "Procfile", {})
    names = [spec.name for spec in specs]
    assert names == ["web1", "web2", "runs", "default", "beat"]
    assert specs[0].command[:2] == ["uvicorn", "mozaiks_core.asgi:application"]
    assert "8001" in specs[0].command
    assert "8002" in specs[1].command
    assert specs[2].command[specs[2].command.index("-Q") + 1] == "mozaiks.runs"
    assert specs[3].command[specs[3].command.index("-Q") + 1] == "mozaiks.default"


def test_a_malformed_procfile_line_names_the_file_and_line(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: uvicorn app\nnot a process line\n")
    with pytest.raises(SystemExit, match=r"Procfile:2: expected 'name: command'"):
        parse_procfile(procfile, {})
