"""A HelloWorld-style UI tool written for the MozaiksAI runtime (imports its path unchanged)."""

from mozaiksai.core.workflow.outputs.ui_tools import UIToolError, use_ui_tool


async def ask_name(question: str, context_variables: dict | None = None) -> str:
    """Show the NameForm and return the name the user typed."""
    chat_id = (context_variables or {}).get("chat_id")
    try:
        answer = await use_ui_tool("NameForm", {"question": question}, chat_id=chat_id, workflow_name="HelloUI")
    except UIToolError as error:
        return f"no answer: {error}"
    return f"The user's name is {answer.get('name', 'unknown')}."
