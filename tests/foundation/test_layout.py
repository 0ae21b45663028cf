"""The runtime's layout is its architecture: folders that import one way, each saying what it owns."""

from __future__ import annotations

import ast

from tests.support.import_graph import PACKAGE_ROOT, cycles_between_folders, folder_graph, import_graph, witnesses

RUNTIME = "mozaiks_core.runtime"


def test_no_import_circle_crosses_two_runtime_folders() -> None:
    graph = import_graph()
    folders = folder_graph(graph, RUNTIME)
    described = []
    for cycle in cycles_between_folders(graph, RUNTIME):
        for source in cycle:
            for target in sorted(set(cycle) & folders[source]):
                described.append(f"{source} -> {target}: {witnesses(graph, RUNTIME, source, target)}")
    assert not described, "import circles between runtime folders:\n" + "\n".join(described)


def test_runs_never_import_the_socket_or_the_apps_face() -> None:
    folders = folder_graph(import_graph(), RUNTIME)
    assert folders[f"{RUNTIME}.runs"] <= {f"{RUNTIME}.{name}" for name in ("engine", "bundles", "llm", "protocol",
                                                                            "models")}
    assert folders[f"{RUNTIME}.bundles"] == set()
    assert folders[f"{RUNTIME}.protocol"] == set()


def test_the_import_graph_sees_deferred_imports() -> None:
    graph = import_graph()
    # runs/writer.py imports runs/usage.py inside a function.
    assert f"{RUNTIME}.runs.usage" in graph[f"{RUNTIME}.runs.writer"]


def test_the_circle_check_finds_a_circle_between_folders() -> None:
    graph = {f"{RUNTIME}.runs.a": {f"{RUNTIME}.services"}, f"{RUNTIME}.services": {f"{RUNTIME}.runs.b"},
             f"{RUNTIME}.runs.b": set()}
    assert cycles_between_folders(graph, RUNTIME) == [[RUNTIME, f"{RUNTIME}.runs"]]


def test_every_package_says_what_it_owns_and_what_it_may_import() -> None:
    missing = []
    for init in sorted([*(PACKAGE_ROOT / "runtime").glob("*/__init__.py"), PACKAGE_ROOT / "db" / "__init__.py"]):
        if "migrations" in init.parts or "templates" in init.parts:
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        if "import" not in docstring.lower() or len(docstring.splitlines()) < 2:
            missing.append(str(init.relative_to(PACKAGE_ROOT)))
    assert not missing, f"packages without a docstring that says what they own and may import: {missing}"


def test_database_helpers_live_in_the_db_package() -> None:
    assert {path.name for path in (PACKAGE_ROOT / "db").glob("*.py")} >= {"fast_sql.py", "async_db.py",
                                                                          "sqlite_checkpoints.py"}
    assert not any((PACKAGE_ROOT / name).exists() for name in ("fast_sql.py", "async_db.py", "sqlite_checkpoints.py"))


def test_nothing_imports_the_runtime_but_the_project_wiring() -> None:
    wiring = {"mozaiks_core.api", "mozaiks_core.asgi", "mozaiks_core.celery", "mozaiks_core.urls"}
    importers = sorted(f"{module} -> {target}" for module, targets in import_graph().items()
                       if not module.startswith(f"{RUNTIME}.") and module not in wiring
                       for target in targets if target.startswith(f"{RUNTIME}."))
    assert not importers, f"only the project wiring may import the runtime: {importers}"
