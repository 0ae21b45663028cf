"""stage_generated_workflow: generate a greeting workflow bundle and a page, and stage them for review.

The artifacts go through the factory path (``mozaiks_core.plugins.factory.staging.stage_mapping``):
they land in the staging area, are validated as the workspace would be after promotion, and wait
for an operator's approval; nothing is written into the live workspace here.
"""

import re
from typing import Annotated, Any

import yaml
from asgiref.sync import sync_to_async

NAME = re.compile(r"^[A-Z][A-Za-z0-9]{2,40}$")


def _bundle(workflow_name: str, page_title: str, greeting: str) -> dict[str, str]:
    agent = f"{workflow_name}Agent"
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", workflow_name).lower()
    folder = f"workflows/{workflow_name}"
    documents = {
        f"{folder}/orchestrator.yaml": {
            "workflow_name": workflow_name, "description": f"{page_title}: says '{greeting}'.",
            "max_turns": 4, "human_in_the_loop": False, "startup_mode": "AgentDriven",
            "orchestration_pattern": "DefaultPattern", "initial_message": f"{agent}, greet the user.",
            "initial_agent": agent},
        f"{folder}/agents.yaml": {"agents": [{"name": agent, "prompt_sections": [
            {"id": "role", "heading": "[ROLE]", "content": f"You greet the user with: {greeting}"}]}]},
        f"{folder}/handoffs.yaml": {"handoff_rules": [
            {"source_agent": agent, "target_agent": "terminate", "handoff_type": "after_work"}]},
        f"{folder}/scripted_model.yaml": {"turns": [{"agent": agent, "say": greeting}]},
        f"ui/pages/{slug}.yaml": {"id": slug, "title": page_title, "route": f"/{slug}", "blocks": [
            {"type": "markdown", "content": f"# {page_title}\n\n{greeting}"},
            {"type": "card", "title": f"Chat with {workflow_name}", "link": "/chat/"}]},
    }
    return {path: yaml.safe_dump(data, sort_keys=False) for path, data in documents.items()}


async def stage_generated_workflow(
    workflow_name: Annotated[str, "CamelCase name of the new workflow, e.g. MoonGreeter"],
    page_title: Annotated[str, "Title of the page that introduces the workflow"],
    greeting: Annotated[str, "What the new workflow says to the user"],
    context_variables: Annotated[Any, "Context variables of the run (injected)"] = None,
) -> dict[str, Any]:
    """Stage the generated bundle and page; report the staged change and its validation."""
    from mozaiks_core.plugins.factory.staging import stage_mapping

    if not NAME.match(workflow_name):
        return {"status": "error", "message": f"workflow_name {workflow_name!r} must be CamelCase letters/digits."}
    change = await sync_to_async(stage_mapping, thread_sensitive=True)(
        _bundle(workflow_name, page_title, greeting), label=f"{workflow_name} (AppBuilder)", origin="workflow",
        chat_id=str(context_variables.get("chat_id") or ""))
    context_variables.set("staged_change_id", change.pk)
    return {"status": change.status, "staged_change_id": change.pk, "files": [f["path"] for f in change.files],
            "errors": change.error_count(), "review": f"/admin/mozaiks_plugins/stagedchange/{change.pk}/change/"}
