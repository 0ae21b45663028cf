"""Fuzzing the workflow bundle loader: any file content gives Problems, never an exception."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mozaiks_core.runtime.bundles.loader import load_bundle
from tests.fuzz.strategies import PATHS, json_trees, nested_yaml, replace_at, yaml_documents

VALID = Path(__file__).resolve().parents[1] / "runtime" / "bundles" / "fixtures" / "HelloWorld"
BUNDLE_FILES = ["orchestrator.yaml", "agents.yaml", "tools.yaml", "handoffs.yaml", "context_variables.yaml",
                "ui_config.yaml", "scripted_model.yaml", "structured_outputs.yaml", "hooks.yaml"]
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _load_with(files: dict[str, str]) -> tuple[Any, list[Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "Fuzzed"
        shutil.copytree(VALID, bundle)
        for name, text in files.items():
            (bundle / name).write_text(text, encoding="utf-8")
        return load_bundle(bundle)


def _assert_structured(bundle: Any, problems: list[Any]) -> None:
    for problem in problems:
        assert problem.level in {"error", "warning", "info"}, problem
        assert problem.file, problem
        assert problem.message, problem
    if bundle is None:
        assert any(problem.level == "error" for problem in problems), "a refused bundle must say why"


def test_the_unmodified_fixture_bundle_loads_so_the_fuzzing_starts_from_a_valid_one() -> None:
    bundle, problems = _load_with({})
    assert bundle is not None, problems


@FUZZ
@given(files=st.dictionaries(st.sampled_from(BUNDLE_FILES), yaml_documents(), min_size=1, max_size=3))
def test_random_or_malformed_bundle_files_give_problems_never_an_exception(files: dict[str, str]) -> None:
    _assert_structured(*_load_with(files))


@FUZZ
@given(name=st.sampled_from(["orchestrator.yaml", "agents.yaml", "tools.yaml", "handoffs.yaml",
                             "context_variables.yaml", "scripted_model.yaml"]),
       path=PATHS, value=json_trees(max_leaves=8))
def test_one_mutated_node_in_a_valid_bundle_gives_problems_never_an_exception(name: str, path: list[int],
                                                                               value: Any) -> None:
    original = yaml.safe_load((VALID / name).read_text(encoding="utf-8"))
    mutated = replace_at(original, path, value)
    _assert_structured(*_load_with({name: yaml.safe_dump(mutated, allow_unicode=True)}))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(BUNDLE_FILES), text=nested_yaml())
def test_a_deeply_nested_or_alias_bomb_bundle_file_gives_problems_never_an_exception(name: str, text: str) -> None:
    _assert_structured(*_load_with({name: text}))
