"""collect_launch_brief: a UI tool showing a form (LaunchBriefForm) and waiting for the user's answer."""

from typing import Annotated, Any

from mozaiksai.core.workflow.outputs.ui_tools import UIToolError, use_ui_tool

FIELDS = [
    {"name": "product_name", "label": "Product name", "type": "text", "required": True},
    {"name": "audience", "label": "Who is it for?", "type": "text", "required": True},
    {"name": "launch_date", "label": "Launch date", "type": "date", "required": True},
    {"name": "budget", "label": "Marketing budget (USD)", "type": "number", "required": True},
]


async def collect_launch_brief(
    intro: Annotated[str, "One sentence shown above the form"],
    context_variables: Annotated[Any, "Context variables of the run (injected)"] = None,
) -> dict[str, Any]:
    """Show the brief form, validate the answer, and store it in ``launch_brief``."""
    try:
        answer = await use_ui_tool(
            "LaunchBriefForm",
            {"title": "Launch brief", "description": intro, "fields": FIELDS, "submit_label": "Send brief"},
            chat_id=context_variables.get("chat_id"),
            workflow_name=context_variables.get("workflow_name"),
        )
    except UIToolError as exc:
        return {"status": "error", "message": str(exc)}
    values = answer.get("values", answer)
    missing = [field["label"] for field in FIELDS if field["required"] and values.get(field["name"]) in (None, "")]
    if missing:
        return {"status": "error", "message": f"The brief is missing: {', '.join(missing)}."}
    try:
        budget = float(values["budget"])
    except (TypeError, ValueError):
        return {"status": "error", "message": f"The budget must be a number, got {values['budget']!r}."}
    brief = {field["name"]: values[field["name"]] for field in FIELDS} | {"budget": budget}
    context_variables.set("launch_brief", brief)
    context_variables.set("brief_complete", True)
    return {"status": "success", "brief": brief}
