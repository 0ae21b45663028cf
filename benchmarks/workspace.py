"""Plugin host benchmarks: workspace startup time and outbox delivery throughput.

    .venv/bin/python benchmarks/workspace.py [--events 2000] [--modules 50]

1. Load a generated workspace of 50 modules and 50 workflows (baseline target: <= 2 s), both the
   loader alone and a full ``django.setup()`` in a fresh process.
2. Publish N domain events and time their delivery through the outbox by a real Celery worker on
   Redis (``REDIS_URL``, default redis://127.0.0.1:6379/9) to two reactions each (audit + one
   notification); target >= 200 events/s. Uses ``DATABASE_URL`` if set, else a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STARTUP_TARGET_S = 2.0
THROUGHPUT_TARGET = 200.0


def generate(root: Path, modules: int, workflows: int) -> Path:
    """A workspace with ``modules`` modules (actions, events, reactions) and ``workflows`` bundles."""
    (root / "app.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "app.json").write_text('{"appId": "bench", "appName": "Bench", "version": "1.0.0", '
                                   '"capability_packs": ["notifications", "audit"]}')
    for index in range(modules):
        module_id = f"mod{index:02d}"
        folder = root / "modules" / module_id
        (folder / "contracts").mkdir(parents=True)
        (folder / "backend").mkdir()
        (folder / "backend" / "handler.py").write_text(
            "class Handler:\n    def run(self, ctx, data):\n        return data\n")
        (folder / "module.yaml").write_text(yaml.safe_dump({
            "schema_version": "mozaiks.module.v1",
            "module": {"id": module_id, "display_name": module_id, "version": "1.0.0",
                       "handler": "backend.handler:Handler"},
            "actions": [{"id": f"act{n}", "type": "mutation", "handler_method": "run",
                         "emits": [f"domain.{module_id}.happened"],
                         "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
                        for n in range(5)]}))
        (folder / "contracts" / "events.yaml").write_text(yaml.safe_dump({"events": [
            {"type": f"domain.{module_id}.happened", "payload_schema": {"type": "object", "required": ["n"]}}]}))
        (folder / "contracts" / "reactions.yaml").write_text(yaml.safe_dump({"reactions": [
            {"id": "tell", "event_type": f"domain.{module_id}.happened",
             "target": {"kind": "notification",
                        "notification": {"title": "Event {payload.n}", "recipients": "actor"}}}]}))
    for index in range(workflows):
        bundle = root / "workflows" / f"Flow{index:02d}"
        bundle.mkdir(parents=True)
        (bundle / "orchestrator.yaml").write_text(f"workflow_name: Flow{index:02d}\n")
    return root


def bench_startup(modules: int, workflows: int) -> None:
    from mozaiks_core.plugins.loader import load_workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "app", modules, workflows)
        started = time.perf_counter()
        workspace = load_workspace(root)
        loader_s = time.perf_counter() - started
        assert not workspace.errors(), workspace.errors()[:3]
        env = {**os.environ, "MOZAIKS_APP_DIR": str(root), "MOZAIKS_VAR_DIR": tmp,
               "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings"}
        code = ("import time,django;t=time.perf_counter();django.setup();import mozaiks_core.urls;"
                "print(time.perf_counter()-t)")
        setup_s = float(subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True,
                                       capture_output=True, text=True).stdout.strip())
    print(f"startup: {len(workspace.modules)} modules + {len(workspace.workflow_dirs)} workflows")
    for label, seconds in (("loader alone", loader_s), ("django.setup() + urls", setup_s)):
        print(f"  {label:<24}{seconds:6.3f} s  (target <= {STARTUP_TARGET_S} s, "
              f"ratio {seconds / STARTUP_TARGET_S:.2f})")


def bench_throughput(events: int, pool: str, concurrency: int) -> None:
    tmp = tempfile.mkdtemp(prefix="mozaiks-bench-")
    env = {**os.environ, "MOZAIKS_VAR_DIR": tmp, "MOZAIKS_CELERY_EAGER": "false",
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
           "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3",
           "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings", "LOG_LEVEL": "warning"}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=REPO, check=True)
    import django

    django.setup()
    import redis
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from mozaiks_core.auth.services import ensure_personal_organization
    from mozaiks_core.plugins.events import publish
    from mozaiks_core.plugins.models import OutboxEvent

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    run = uuid.uuid4().hex[:10]
    user = get_user_model().objects.create_user(username=f"bench-{run}", email=f"{run}@bench.example", password=run * 2)
    organization = ensure_personal_organization(user)
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "mozaiks_core", "worker", "-Q", "mozaiks.default",
                               "-P", pool, "-c", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
                               "--without-mingle", "--without-heartbeat"], env=env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)
        started = time.perf_counter()
        with transaction.atomic():
            for index in range(events):
                publish("domain.tasks.task_created", {"task_id": index, "title": f"t{index}"}, actor=user,
                        organization=organization, correlation_id=run)
        pending = OutboxEvent.objects.filter(correlation_id=run, status=OutboxEvent.Status.PENDING)
        while pending.exists():
            if time.perf_counter() - started > 300:
                raise SystemExit("delivery did not finish within 300 s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    rate = events / elapsed
    backend = "PostgreSQL" if "postgres" in env["DATABASE_URL"] else "SQLite"
    print(f"outbox: {events} events x 2 reactions, Celery worker ({pool} x {concurrency}) on Redis ({backend}): "
          f"{elapsed:.2f} s")
    print(f"  throughput              {rate:6.0f} events/s (target >= {THROUGHPUT_TARGET:.0f}, "
          f"ratio {rate / THROUGHPUT_TARGET:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--workflows", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--pool", choices=["prefork", "threads"], default="prefork")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    bench_startup(args.modules, args.workflows)
    bench_throughput(args.events, args.pool, args.concurrency)


if __name__ == "__main__":
    main()
