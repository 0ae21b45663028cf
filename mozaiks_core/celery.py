"""The Celery application: JSON only, late acks, tasks autodiscovered from installed apps.

On the embedded default tasks run eagerly in-process; with ``REDIS_URL`` they go to Redis and
run on workers (queue ``mozaiks.runs`` for workflow runs, ``mozaiks.default`` for the rest).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mozaiks_core.settings")

app = Celery("mozaiks_core")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def register_periodic_task(name: str, task: str, schedule: float, **options: object) -> None:
    """Add a beat entry; apps call this from ``AppConfig.ready`` (the beat schedule hook)."""
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), name: {"task": task, "schedule": schedule, **options}}


@app.task(name="mozaiks.ping", ignore_result=True)
def ping(cache_key: str) -> None:
    """Liveness task for workers: writes ``pong`` under ``cache_key`` in the shared cache."""
    from django.core.cache import cache

    cache.set(cache_key, "pong", 60)


@worker_init.connect
@worker_process_init.connect
def _trace_worker_process(**_: object) -> None:
    """OpenTelemetry in every worker process, when the ``otel`` extra and an exporter are configured."""
    from mozaiks_core.observability import tracing

    tracing.configure()


@worker_ready.connect
@worker_process_init.connect
def _tune_worker_process(**_: object) -> None:
    """Thread switching and the frozen start-up heap (``runtime.process_tuning``) in every worker process."""
    from mozaiks_core.runtime.runs.process_tuning import tune_process

    tune_process()
