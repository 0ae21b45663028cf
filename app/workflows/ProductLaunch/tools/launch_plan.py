"""Agent tools of the strategist: split the budget, then record the user's sign-off."""

from typing import Annotated, Any

CHANNEL_WEIGHTS = {"email": 1.0, "social": 2.0, "paid_search": 3.0, "events": 2.5, "content": 1.5}


def estimate_launch_budget(
    channels: Annotated[list[str], "Marketing channels: email, social, paid_search, events, content"],
    context_variables: Annotated[Any, "Context variables of the run (injected)"] = None,
) -> dict[str, Any]:
    """Split the brief's budget across ``channels`` by their typical cost weight."""
    brief = context_variables.get("launch_brief") or {}
    budget = float(brief.get("budget") or 0)
    unknown = [channel for channel in channels if channel not in CHANNEL_WEIGHTS]
    if unknown or not channels:
        return {"status": "error", "message": f"Unknown channels {unknown}; use {sorted(CHANNEL_WEIGHTS)}."}
    total_weight = sum(CHANNEL_WEIGHTS[channel] for channel in channels)
    split = {channel: round(budget * CHANNEL_WEIGHTS[channel] / total_weight, 2) for channel in channels}
    context_variables.set("budget_split", split)
    return {"status": "success", "product": brief.get("product_name"), "budget": budget, "split": split}


def finalize_launch_plan(
    feedback: Annotated[str, "One line summarizing the user's answer to the plan"],
    context_variables: Annotated[Any, "Context variables of the run (injected)"] = None,
) -> dict[str, Any]:
    """Mark the plan final; the handoff rules end the chat after the strategist's closing line."""
    context_variables.set("plan_final", True)
    return {"status": "success", "feedback": feedback, "split": context_variables.get("budget_split")}
