"""The container entrypoint: wait for the database, migrate once, then become the given role's process.

``python -m mozaiks_core.entrypoint ROLE`` (the image's ``docker/entrypoint.sh``). Roles are the
``Procfile``'s processes, run from the Procfile itself so a container runs exactly what
``make run-scaled`` runs: ``web`` (the ``web1`` line, on ``0.0.0.0:$PORT``), ``runs``, ``default``,
``beat``; ``migrate`` migrates and exits (a one-shot service before the others); ``manage ARGS``
runs ``manage.py ARGS``.

Migrating takes a PostgreSQL advisory lock, so containers that start together migrate one after
the other and every one after the first finds nothing to do. ``MOZAIKS_MIGRATE=false`` skips it
(the compose file's long-running services, which start after the ``migrate`` service).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mozaiks_core.supervisor import parse_procfile, reset_metrics_dir

# Role -> the Procfile line it runs.
ROLES = {"web": "web1", "runs": "runs", "default": "default", "beat": "beat"}
# Container defaults for the Procfile's variables (an environment value wins).
CONTAINER_DEFAULTS = {"WEB_HOST": "0.0.0.0", "PORT": "8000"}  # noqa: S104 (a container listens on its own interface)
MIGRATION_LOCK = 0x6D6F7A61  # pg_advisory_lock key of "migrate once"


class EntrypointError(SystemExit):
    """A startup failure the operator must fix: one line naming what failed and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(f"mozaiks-entrypoint: {message}")


def project_dir() -> Path:
    """The project's folder (``manage.py``, ``Procfile``): ``MOZAIKS_BASE_DIR``, else the working directory."""
    return Path(os.environ.get("MOZAIKS_BASE_DIR") or Path.cwd())


def _say(message: str) -> None:
    sys.stderr.write(f"mozaiks-entrypoint: {message}\n")
    sys.stderr.flush()


def procfile_path() -> Path:
    """``MOZAIKS_PROCFILE``, else the project's ``Procfile``."""
    explicit = os.environ.get("MOZAIKS_PROCFILE")
    return Path(explicit) if explicit else project_dir() / "Procfile"


def role_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment a role runs in: the container defaults under the given environment; the web
    line's port (``WEB1_PORT``) is ``PORT``."""
    env = {**CONTAINER_DEFAULTS, **environ}
    env.setdefault("WEB1_PORT", env["PORT"])
    return env


def command_for(role: str, env: dict[str, str], procfile: Path | None = None) -> list[str]:
    """The command of ``role``: its Procfile line with ``env``'s variables expanded."""
    if role not in ROLES:
        raise EntrypointError(f"unknown role {role!r}; use one of {', '.join([*ROLES, 'migrate', 'manage'])}")
    path = procfile or procfile_path()
    if not path.is_file():
        raise EntrypointError(f"no Procfile at {path}; set MOZAIKS_PROCFILE or MOZAIKS_BASE_DIR to the project's "
                              "folder")
    specs = {spec.name: spec for spec in parse_procfile(path, env)}
    line = ROLES[role]
    if line not in specs:
        raise EntrypointError(f"{path} has no {line!r} line for role {role!r}; restore it from the release")
    command = specs[line].command
    beside_python = Path(sys.executable).parent / command[0]  # this interpreter's uvicorn and celery
    return [str(beside_python), *command[1:]] if beside_python.exists() else command


def wait_for_database(timeout: float, interval: float = 1.0) -> None:
    """Return once the default database accepts a connection; fail naming it after ``timeout`` seconds."""
    from django.db import OperationalError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as error:
            settings = connection.settings_dict
            where = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 'default port'}"
            if time.monotonic() >= deadline:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise EntrypointError(
                    f"the database at {where} did not answer within {timeout:g}s ({reason}); check DATABASE_URL "
                    "and that the database is up, or raise MOZAIKS_DB_WAIT_SECONDS") from None
            _say(f"waiting for the database at {where}")
            connection.close()
            time.sleep(interval)


def migrate_once() -> None:
    """``migrate --noinput``, under an advisory lock on PostgreSQL (one migration at a time)."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        call_command("migrate", "--noinput", verbosity=1)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        call_command("migrate", "--noinput", verbosity=1)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ROLE``: see the module docstring."""
    arguments = list(argv if argv is not None else sys.argv[1:])
    role = arguments.pop(0) if arguments else "web"
    if role == "manage":
        # The operator's own manage.py command, with this interpreter.
        os.execv(sys.executable, [sys.executable, str(project_dir() / "manage.py"), *arguments])  # noqa: S606
    env = role_environment(dict(os.environ))
    command = None if role == "migrate" else command_for(role, env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mozaiks_core.settings")
    import django

    django.setup()
    wait_for_database(float(os.environ.get("MOZAIKS_DB_WAIT_SECONDS", "60")))
    if role == "migrate":
        reset_metrics_dir(env)  # the deployment starts: the host's metric files begin again
        migrate_once()
        return 0
    if os.environ.get("MOZAIKS_MIGRATE", "true").lower() not in ("false", "0", "no"):
        migrate_once()
    from django.db import connections

    connections.close_all()
    if command is None:  # only the migrate role has none, and it returned above
        raise EntrypointError(f"role {role!r} has no command")
    _say(f"starting {role}: {' '.join(command)}")
    os.execvpe(command[0], command, env)  # noqa: S606 (the operator's Procfile line)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
