"""Process tuning of servers and workers: the start-up heap frozen out of garbage collection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, django
django.setup()
from mozaiks_core.runtime.runs import process_tuning
first = process_tuning.freeze_startup_heap()
second = process_tuning.freeze_startup_heap()
print(json.dumps({"first": first, "second": second, "frozen": gc.get_freeze_count(),
                  "young": gc.get_threshold()[0],
                  "engine": "mozaiks_core.runtime.engine" in __import__("sys").modules}))
"""


def _probe(**env: str) -> dict[str, object]:
    import json

    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "mozaiks_core.settings", **env}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_start_up_heap_is_frozen_once_with_the_engine_and_urlconf_loaded() -> None:
    outcome = _probe()
    assert outcome["first"] is True
    assert outcome["second"] is False
    assert outcome["engine"] is True  # AG2 is imported before freezing, not on the first run
    assert int(outcome["frozen"]) > 100_000
    assert int(outcome["young"]) >= 10_000


def test_freezing_can_be_turned_off() -> None:
    outcome = _probe(MOZAIKS_GC_FREEZE="false")
    assert outcome["first"] is False
    assert int(outcome["frozen"]) == 0
    assert int(outcome["young"]) == 700
