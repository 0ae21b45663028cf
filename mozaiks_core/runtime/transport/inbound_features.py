"""Inbound frames of the MozaiksAI protocol that this server answers differently or not at all.

``ui.tool.response`` is the dotted spelling of ``ui_tool_response`` and is handled as it.
General ("Ask") mode and artifact actions are MozaiksAI features this runtime does not have: their
frames get a ``chat.error`` with ``error_code: FEATURE_UNSUPPORTED`` naming the feature, and the
socket stays open. ``chat.switch_workflow`` is handled by the consumer.
"""

from __future__ import annotations

from dataclasses import replace

from mozaiks_core.runtime.protocol.frames import FrameError, InboundFrame

FEATURE_UNSUPPORTED = "FEATURE_UNSUPPORTED"

_UNSUPPORTED = {
    "chat.enter_general_mode": ("general_mode", "General (Ask) mode is not supported by this server; "
                                "start a workflow chat instead."),
    "chat.start_general_chat": ("general_mode", "General (Ask) chats are not supported by this server; "
                                "start a workflow chat instead."),
    "chat.artifact_action": ("artifact_actions", "Artifact actions are not supported by this server; answer "
                             "the artifact's form (ui_tool_response) or send a message instead."),
}


def refuse_or_translate(frame: InboundFrame) -> InboundFrame:
    """The frame to handle (``ui.tool.response`` becomes ``ui_tool_response``), or a
    :class:`FrameError` for a feature this server does not have."""
    if frame.type == "ui.tool.response":
        return replace(frame, type="ui_tool_response")
    refused = _UNSUPPORTED.get(frame.type)
    if refused is not None:
        feature, message = refused
        raise FrameError(FEATURE_UNSUPPORTED, message, feature=feature, frame_type=frame.type)
    return frame
