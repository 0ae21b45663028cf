"""Fuzzing module manifests: any module.yaml gives a ModuleSpec or check messages, never an exception."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mozaiks_core.plugins.documents import DocumentReader
from mozaiks_core.plugins.module_manifest import load_module
from mozaiks_core.validation import Problem
from tests.fuzz.strategies import PATHS, json_trees, nested_yaml, replace_at, yaml_documents
from tests.plugins.conftest import HANDLER, NOTES_EVENTS, NOTES_MODULE, NOTES_REACTIONS

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _load(files: dict[str, str]) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "notes"
        (folder / "contracts").mkdir(parents=True)
        (folder / "backend").mkdir()
        defaults = {"module.yaml": yaml.safe_dump(NOTES_MODULE), "backend/handler.py": HANDLER,
                    "contracts/events.yaml": yaml.safe_dump(NOTES_EVENTS),
                    "contracts/reactions.yaml": yaml.safe_dump(NOTES_REACTIONS)}
        for name, text in {**defaults, **files}.items():
            (folder / name).write_text(text, encoding="utf-8")
        spec = load_module(folder, "app_modules.notes", "workspace", DocumentReader(Path(tmp), problems))
    return spec, problems


def _assert_checked(spec: Any, problems: list[Problem]) -> None:
    for problem in problems:
        assert all((problem.code, problem.file, problem.message)), problem
    if spec is None:
        assert any(problem.level == "error" for problem in problems), "a refused module must say why"


def test_the_unmodified_notes_module_loads_so_the_fuzzing_starts_from_a_valid_one() -> None:
    spec, problems = _load({})
    assert spec is not None, problems


@FUZZ
@given(files=st.dictionaries(st.sampled_from(["module.yaml", "contracts/events.yaml", "contracts/reactions.yaml",
                                              "settings.yaml", "notifications.yaml", "admin.yaml",
                                              "runtime_extensions.yaml"]),
                             yaml_documents(), min_size=1, max_size=3))
def test_random_module_documents_give_check_messages_never_an_exception(files: dict[str, str]) -> None:
    _assert_checked(*_load(files))


@FUZZ
@given(document=st.sampled_from(["module.yaml", "contracts/events.yaml", "contracts/reactions.yaml"]),
       path=PATHS, value=json_trees(max_leaves=8))
def test_one_mutated_node_in_a_valid_manifest_gives_check_messages_never_an_exception(
        document: str, path: list[int], value: Any) -> None:
    original = {"module.yaml": NOTES_MODULE, "contracts/events.yaml": NOTES_EVENTS,
                "contracts/reactions.yaml": NOTES_REACTIONS}[document]
    _assert_checked(*_load({document: yaml.safe_dump(replace_at(original, path, value), allow_unicode=True)}))


@FUZZ
@given(document=st.sampled_from(["module.yaml", "contracts/events.yaml", "contracts/reactions.yaml", "settings.yaml"]),
       text=nested_yaml())
def test_deeply_nested_or_alias_bomb_documents_give_check_messages_never_an_exception(document: str, text: str) -> None:
    _assert_checked(*_load({document: text}))
