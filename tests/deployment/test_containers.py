"""The container image and compose file, checked without a Docker engine: the entrypoint runs every
role's Procfile line on this machine, and the Dockerfile and compose.yaml run what the Procfile says."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mozaiks_core.entrypoint import ROLES, EntrypointError, command_for, role_environment
from mozaiks_core.supervisor import parse_procfile
from tests.support.services import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "docker" / "entrypoint.sh"
PROCFILE = REPO_ROOT / "Procfile"


def test_compose_runs_every_procfile_process_as_its_role_with_the_procfiles_command() -> None:
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate"} <= set(services)
    container_env = role_environment({})
    for spec in parse_procfile(PROCFILE, container_env):
        service = services[spec.name]
        [role] = service["command"]
        # web2 is the same line as web1 on its own port: in a container both listen on $PORT.
        expected = parse_procfile(PROCFILE, {**container_env, "WEB2_PORT": container_env["PORT"]})
        line = next(entry for entry in expected if entry.name == spec.name).command
        assert [Path(command_for(role, container_env, PROCFILE)[0]).name, *command_for(role, container_env,
                                                                                         PROCFILE)[1:]] == line
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["MOZAIKS_MIGRATE"] == "false"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["environment"]["MOZAIKS_MIGRATE"] == "true"
    assert set(ROLES.values()) <= {spec.name for spec in parse_procfile(PROCFILE, {})}
    assert "0.0.0.0" in command_for("web", container_env, PROCFILE)


def test_the_dockerfile_is_multi_stage_slim_non_root_collects_static_and_checks_health() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", dockerfile, re.MULTILINE)
    assert len(stages) == 2
    assert all(image.startswith("python:") and image.endswith("-slim") for image, _ in stages)
    assert "COPY --from=build /opt/venv /opt/venv" in dockerfile
    assert re.search(r"^USER mozaiks$", dockerfile, re.MULTILINE)
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"HEALTHCHECK .*\n\s+CMD .*/health", dockerfile)
    assert 'ENTRYPOINT ["mozaiks-entrypoint"]' in dockerfile
    assert "COPY docker/entrypoint.sh /usr/local/bin/mozaiks-entrypoint" in dockerfile
    assert "COPY manage.py Procfile ./" in dockerfile
    assert 'CMD ["web"]' in dockerfile
    assert os.access(ENTRYPOINT, os.X_OK)


def test_an_unknown_role_is_refused_with_the_roles_there_are() -> None:
    with pytest.raises(EntrypointError, match=r"unknown role 'worker'; use one of web, runs, default, beat, migrate"):
        command_for("worker", role_environment({}), PROCFILE)


def test_a_missing_procfile_is_named(tmp_path: Path) -> None:
    with pytest.raises(EntrypointError, match=rf"no Procfile at {tmp_path}/Procfile"):
        command_for("web", role_environment({}), tmp_path / "Procfile")


# --- the entrypoint script, for real --------------------------------------------------------------


def _production_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MOZAIKS_", "DJANGO_", "PYTEST_", "OTEL_", "PROMETHEUS_"))}
    env.update({
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "DATABASE_URL": database_url, "MOZAIKS_BASE_DIR": str(REPO_ROOT),
        "MOZAIKS_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1",
        "MOZAIKS_APP_DIR": str(REPO_ROOT / "app"),
    })
    env.update(extra)
    return env


@pytest.mark.slow
def test_the_entrypoint_names_the_database_it_could_not_reach(tmp_path: Path) -> None:
    env = _production_env(tmp_path, "postgres://postgres@127.0.0.1:1/nowhere", MOZAIKS_DB_WAIT_SECONDS="1")
    result = subprocess.run(["sh", str(ENTRYPOINT), "web"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mozaiks-entrypoint: the database at 127.0.0.1:1 did not answer within 1s"), result.stderr
    assert "DATABASE_URL" in last
    assert "waiting for the database at 127.0.0.1:1" in result.stderr


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own (the entrypoint migrates it), dropped after."""
    import psycopg

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.startswith("postgres"):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    base = server.rsplit("/", 1)[0]
    name = f"mozaiks_entrypoint_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        from tests.support.services import service_missing

        service_missing(f"PostgreSQL is not answering at {base}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{base}/{name}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait(process: subprocess.Popen[str], log: Path, needle: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode} before {needle!r}:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    raise AssertionError(f"no {needle!r} within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(480)  # four production processes start at once (each imports Django and the app)
def test_every_role_starts_from_the_entrypoint_and_concurrent_starts_migrate_once(
    tmp_path: Path, fresh_database: str, redis_server_url: str
) -> None:
    import psycopg

    token = secrets.token_urlsafe(32)
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = _production_env(tmp_path, fresh_database, REDIS_URL=redis_server_url, PORT=str(port),
                          MOZAIKS_METRICS_TOKEN=token, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    (tmp_path / "var").mkdir()
    processes: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    try:
        # Two roles that both migrate, started together on an empty database: the lock serialises them.
        for role in ("web", "runs", "default", "beat"):
            log = tmp_path / f"{role}.log"
            role_env = {**env, "MOZAIKS_MIGRATE": "true" if role in ("web", "runs") else "false"}
            handle = log.open("w")
            processes[role] = (subprocess.Popen(["sh", str(ENTRYPOINT), role], cwd=tmp_path, env=role_env,
                                                stdout=handle, stderr=subprocess.STDOUT, text=True), log)
        web, web_log = processes["web"]
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if web.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(web_log.read_text()[-4000:]) from None
                time.sleep(0.5)
        _wait(*processes["runs"], "ready.")
        _wait(*processes["default"], "ready.")
        _wait(*processes["beat"], "beat: Starting")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            scrape = response.read().decode()
        assert 'mozaiks_http_requests_total{method="GET",route="/health",status="200"}' in scrape
        assert "mozaiks_celery_queue_depth" in scrape
        assert any(metrics_dir.glob("counter_*.db"))
    finally:
        for process, _ in processes.values():
            if process.poll() is None:
                process.terminate()
        for process, _ in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    logs = {role: log.read_text(errors="replace") for role, (_, log) in processes.items()}
    assert "mozaiks-entrypoint: starting web: " in logs["web"]
    assert "uvicorn mozaiks_core.asgi:application --host 0.0.0.0 --port" in logs["web"]
    for role in ("web", "runs"):
        assert "Traceback" not in logs[role].split("mozaiks-entrypoint: starting")[0], logs[role][-3000:]
    applied = [log for log in (logs["web"], logs["runs"]) if "Applying auth." in log or "Applying " in log]
    assert len(applied) == 1, "both migrated: the advisory lock did not serialise them"
    with psycopg.connect(fresh_database) as connection:
        assert connection.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 10
    # Production mode: the application's own records are JSON lines.
    json_lines = [line for line in logs["web"].splitlines() if line.startswith('{"ts": ')]
    assert json_lines, logs["web"][-2000:]
    shutil.rmtree(metrics_dir, ignore_errors=True)
