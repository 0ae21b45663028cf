"""``use_ui_tool``: show a UI component in the chat and wait for the user's answer.

Tool code calls it exactly as in MozaiksAI (``tool_id`` is the component, ``payload`` its
props). It finds the run of ``chat_id``, asks the run's hooks to emit the UI ``chat.tool_call``
and blocks until ``ui_tool_response`` arrives (WebSocket or HTTP). A timeout raises
:class:`UIToolError`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mozaiks_core.runtime.engine.bridge import bridge_for_chat
from mozaiks_core.runtime.engine.hooks import UIToolTimeout


class UIToolError(Exception):
    """The UI tool could not get an answer (no run for the chat, timeout, or the run stopped)."""


async def use_ui_tool(
    tool_id: str,
    payload: dict[str, Any],
    *,
    chat_id: str | None,
    workflow_name: str,
    display: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Emit the UI tool ``tool_id`` with ``payload`` for ``chat_id`` and return the user's answer."""
    if not chat_id:
        raise UIToolError(f"use_ui_tool({tool_id!r}) needs chat_id; read it from context_variables['chat_id'].")
    bridge = bridge_for_chat(chat_id)
    if bridge is None:
        raise UIToolError(f"no workflow run is active for chat {chat_id!r}; UI tools only work inside a run.")
    spec = bridge.bundle.ui_tool(tool_id) if bridge.bundle is not None else None
    tool_name = spec.name if spec else tool_id
    display = display or (spec.ui.mode if spec and spec.ui else "inline")
    agent = spec.agents[0] if spec and spec.agents else ""
    hooks = bridge.hooks
    bridge.checkpoint()

    def request() -> Any:
        return hooks.request_ui_tool(
            tool_name=tool_name, component_type=tool_id, payload=dict(payload), display=display, timeout=timeout,
            agent=agent,
        )

    try:
        running = asyncio.get_running_loop()
        if running is bridge.loop:
            answer = await request()
        else:  # AG2 runs async tools on a private loop in another thread
            answer = await asyncio.wrap_future(bridge.submit(request))
    except UIToolTimeout as exc:
        raise UIToolError(f"nobody answered UI tool {tool_id!r} within {timeout} seconds.") from exc
    return answer if isinstance(answer, dict) else {"value": answer}
