"""The MozaiksAI import path for tool code, and that it never shadows a real ``mozaiksai``."""

import importlib
import sys

import pytest

from mozaiks_core.runtime.engine import UIToolError, mozaiksai_shim, use_ui_tool


@pytest.fixture
def clean_shim(monkeypatch):
    mozaiksai_shim.uninstall()
    yield
    monkeypatch.undo()  # a test's fake real mozaiksai leaves sys.path before the alias comes back
    for name in [name for name in sys.modules if name == "mozaiksai" or name.startswith("mozaiksai.")]:
        del sys.modules[name]
    mozaiksai_shim.uninstall()
    mozaiksai_shim.install()  # as the app config left it


def test_without_a_real_mozaiksai_the_tool_import_paths_serve_our_use_ui_tool(clean_shim):
    assert mozaiksai_shim.install() is True

    for name in ("mozaiksai.core.workflow.outputs.ui_tools", "mozaiksai.engine.outputs.ui_tools"):
        module = importlib.import_module(name)
        assert module.use_ui_tool is use_ui_tool
        assert module.UIToolError is UIToolError
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("mozaiksai.core.transport")  # only the UI-tool path is provided


def test_an_installed_mozaiksai_is_never_shadowed(clean_shim, tmp_path, monkeypatch):
    package = tmp_path / "mozaiksai" / "core" / "workflow" / "outputs"
    package.mkdir(parents=True)
    folder = package
    for _ in range(4):  # outputs, workflow, core, mozaiksai
        (folder / "__init__.py").write_text("")
        folder = folder.parent
    (package / "ui_tools.py").write_text("REAL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert mozaiksai_shim.install() is False
    module = importlib.import_module("mozaiksai.core.workflow.outputs.ui_tools")
    assert module.REAL is True
    assert not hasattr(module, "use_ui_tool")


async def test_use_ui_tool_outside_a_run_raises_uitoolerror_with_the_reason():
    with pytest.raises(UIToolError, match="no workflow run is active for chat 'nowhere'"):
        await use_ui_tool("Card", {}, chat_id="nowhere", workflow_name="HelloWorld")
    with pytest.raises(UIToolError, match="needs chat_id"):
        await use_ui_tool("Card", {}, chat_id=None, workflow_name="HelloWorld")
