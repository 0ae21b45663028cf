"""The scripted model's turns are parsed once and shared; each run keeps only its place in them."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from mozaiks_core.runtime.llm.scripted import (
    Script,
    ScriptExhausted,
    ScriptInvalid,
    ScriptTurn,
    plan_for_data,
    plan_for_file,
)


def script_data(rounds: int) -> dict[str, list[dict[str, str]]]:
    return {"turns": [{"agent": "EchoAgent", "say": f"answer {index}"} for index in range(rounds)]}


def test_runs_of_one_bundle_share_its_parsed_turns_and_keep_their_own_places() -> None:
    data = {"turns": [{"agent": "A", "say": "a1"}, {"say": "anyone"}, {"agent": "A", "say": "a2"},
                      {"agent": "B", "say": "b1"}]}
    first, second = Script(plan_for_data(data)), Script(plan_for_data(data))
    assert plan_for_data(data) is plan_for_data(data)

    assert [first.next_for("A").say, first.next_for("A").say] == ["a1", "a2"]
    assert first.next_for("A").say == "anyone"  # its queue is empty: the shared turn
    with pytest.raises(ScriptExhausted):
        first.next_for("A")
    # The other run starts at the beginning: nothing the first consumed is gone for it.
    assert [second.next_for("B").say, second.next_for("A").say, second.next_for("B").say] == ["b1", "a1", "anyone"]


def test_a_reloaded_bundle_gets_its_new_script() -> None:
    before, after = script_data(1), {"turns": [{"agent": "EchoAgent", "say": "changed"}]}
    assert Script(plan_for_data(before)).next_for("EchoAgent").say == "answer 0"
    assert Script(plan_for_data(after)).next_for("EchoAgent").say == "changed"


def test_fifty_runs_of_a_long_script_add_no_objects_per_turn_for_the_collector() -> None:
    data = script_data(2000)
    plan_for_data(data)
    gc.collect()
    before = len(gc.get_objects())
    scripts = [Script(plan_for_data(data)) for _ in range(50)]
    added = len(gc.get_objects()) - before
    # Each run used to copy every turn (2,000 objects and their argument dicts per run).
    assert added < 50 * 20, added
    assert all(script.next_for("EchoAgent").say == "answer 0" for script in scripts)


def test_a_plain_list_of_turns_still_makes_a_script() -> None:
    script = Script([ScriptTurn(agent="A", say="one"), ScriptTurn(say="two")])
    assert [script.next_for("B").say, script.next_for("A").say] == ["two", "one"]


def test_the_script_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("turns:\n- say: first\n")
    assert plan_for_file(path) is plan_for_file(path)
    assert Script(plan_for_file(path)).next_for("X").say == "first"

    path.write_text("turns:\n- say: second version\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # even within the clock's resolution
    assert Script(plan_for_file(path)).next_for("X").say == "second version"


def test_a_malformed_or_missing_script_file_is_reported_every_time(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("turns:\n- agent: Helper\n")
    for _ in range(2):  # a failed parse is not cached
        with pytest.raises(ScriptInvalid, match=r"script.yaml:turns\[0\]"):
            plan_for_file(path)
    with pytest.raises(ScriptInvalid):
        plan_for_file(tmp_path / "missing.yaml")
