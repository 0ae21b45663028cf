"""Channel-layer group names: where a chat's frames and a run's answers travel between processes."""

from __future__ import annotations


def chat_group(chat_id: str) -> str:
    """Channel-layer group of a chat's sockets."""
    return f"mozaiks.chat.{chat_id}"


def run_group(chat_id: str) -> str:
    """Channel-layer group of the run holding a chat (answers and cancellation go there)."""
    return f"mozaiks.run.{chat_id}"


def user_group(user_id: object) -> str:
    """Channel-layer group of every chat socket of one user (credential re-checks go there)."""
    return f"mozaiks.user.{user_id}"
