"""Metrics benchmark: ``python benchmarks/metrics.py``: what each hot-path metric call costs.

The socket and the event writer call ``mozaiks_core.observability.metrics`` once per frame sent
(``frame_sent``), per client frame (``frame_received``), per batch of a chat's frames reaching a
socket (``frames_delivered``) and per frame submitted (``now``). Each is timed here beside a bare
``prometheus_client`` ``Counter.inc()`` (the baseline), in one process and in multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR`` set: every value is a write to a memory-mapped file), best of 5.

    python benchmarks/metrics.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(calls: int) -> None:
    """Time each call in this process (its mode is the environment's)."""
    from prometheus_client import Counter

    from mozaiks_core.observability import metrics

    baseline = Counter("bench_baseline_total", "baseline")
    cases = {
        "Counter.inc (baseline)": baseline.inc,
        "frame_sent": metrics.frame_sent,
        "frame_received": lambda: metrics.frame_received("user.input.submit"),
        "frames_delivered": lambda: metrics.frames_delivered(time.time() - 0.002),
        "now": metrics.now,
    }
    mode = "multiprocess" if metrics.MULTIPROC_DIR else "one process"
    for name, call in cases.items():
        seconds = min(timeit.repeat(call, number=calls, repeat=5)) / calls
        print(f"  {mode:<12} {name:<24} {seconds * 1e6:6.2f} us/call")


def main() -> None:
    """Both modes, each in a fresh interpreter (the mode is chosen when the module is imported)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.calls)
        return
    print(f"{os.cpu_count()} cores; python {sys.version.split()[0]}; best of 5 x {args.calls} calls")
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    subprocess.run([sys.executable, __file__, "--measure", "--calls", str(args.calls)], env=env, check=True)
    with tempfile.TemporaryDirectory(prefix="mozaiks-metrics-") as folder:
        subprocess.run([sys.executable, __file__, "--measure", "--calls", str(args.calls)],
                       env={**env, "PROMETHEUS_MULTIPROC_DIR": folder}, check=True)


if __name__ == "__main__":
    main()
