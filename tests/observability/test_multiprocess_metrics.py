"""Several processes of one host, one scrape: prometheus_client's multiprocess mode as the framework sets it up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mozaiks_core.supervisor import _process_gone, reset_metrics_dir
from tests.support.processes import child_environment

REPO_ROOT = Path(__file__).resolve().parents[2]

# A worker or web process (without Django's set-up, which takes seconds here): counts a run and
# opens a socket, then (when told) waits on stdin.
CHILD = """
import sys
from mozaiks_core.observability import metrics
metrics.run_started("Demo")
metrics.socket_opened()
metrics.llm_call("tiny", 0.2, 10, 3)
print("counted", flush=True)
if sys.argv[1] == "stay":
    sys.stdin.read()
"""

SCRAPE = """
from mozaiks_core.observability import metrics
print(metrics.scrape().decode())
"""


def _env(directory: Path) -> dict[str, str]:
    return child_environment({"PROMETHEUS_MULTIPROC_DIR": str(directory)})


def _samples(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = subprocess.run([sys.executable, "-c", SCRAPE], env=_env(directory), cwd=REPO_ROOT, check=True,
                          capture_output=True, text=True, timeout=60).stdout
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_one_scrape_sums_every_process_and_a_dead_process_leaves_the_open_socket_gauge(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    (directory).mkdir()
    (directory / "counter_stale-1.db").write_bytes(b"left by an earlier start")
    reset_metrics_dir({"PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert list(directory.iterdir()) == []

    staying = subprocess.Popen([sys.executable, "-c", CHILD, "stay"], env=_env(directory), cwd=REPO_ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert staying.stdout is not None
        assert staying.stdout.readline().strip() == "counted"
        exited = subprocess.run([sys.executable, "-c", CHILD, "exit"], env=_env(directory), cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=60, check=True)
        assert exited.stdout.strip() == "counted"
        samples = _samples(directory)
        assert samples[("mozaiks_runs_started_total", (("workflow", "Demo"),))] == 2
        assert samples[("mozaiks_llm_tokens_total", (("kind", "prompt"), ("model", "tiny")))] == 20
        assert samples[("mozaiks_llm_call_seconds_count", (("model", "tiny"),))] == 2
        assert samples[("mozaiks_ws_open_sockets", ())] == 2  # the exited one is not marked dead yet

        # What the supervisor does when a child exits; the exited process's pid is not known here,
        # so its files tell it (named <host>-<pid>).
        pids = {int(path.stem.rsplit("-", 1)[1]) for path in directory.glob("gauge_livesum_*.db")}
        for pid in pids - {staying.pid}:
            _process_gone(pid, {"PROMETHEUS_MULTIPROC_DIR": str(directory)})
        samples = _samples(directory)
        assert samples[("mozaiks_ws_open_sockets", ())] == 1
        assert samples[("mozaiks_runs_started_total", (("workflow", "Demo"),))] == 2  # counters stay
    finally:
        staying.communicate("", timeout=30)
    assert os.path.isdir(directory)
