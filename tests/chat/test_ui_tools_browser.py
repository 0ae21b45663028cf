"""UI tools rendered from their payload, as the real ES module in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MOUNT = """async (data) => {
  const tools = await import('/static/mozaiks/chat/ui-tools.js');
  window.__sent = [];
  const holder = tools.renderUiTool(data, (response) => window.__sent.push(response));
  document.getElementById('root').replaceChildren(holder);
  return { broken: holder.dataset.broken === 'true', text: holder.textContent };
}"""

FORM = {
    "tool_name": "collect_profile", "component_type": "form", "awaiting_response": True, "eventId": "e1",
    "payload": {"title": "Your profile", "fields": [
        {"name": "name", "label": "Name", "required": True},
        {"name": "age", "label": "Age", "type": "number"},
        {"name": "plan", "label": "Plan", "type": "select", "options": ["free", {"value": "pro", "label": "Pro"}]},
        {"name": "news", "label": "Newsletter", "type": "checkbox"},
    ]},
}


def test_a_form_sends_the_declared_fields_once_even_when_submitted_twice(module_page: Any) -> None:
    assert module_page.evaluate(MOUNT, FORM)["broken"] is False
    module_page.get_by_label("Name *").fill("Ada")
    module_page.get_by_label("Age").fill("36")
    module_page.get_by_label("Plan").select_option("pro")
    module_page.get_by_label("Newsletter").check()
    module_page.evaluate("""() => { const form = document.querySelector('form');
      form.requestSubmit(); form.requestSubmit(); form.dispatchEvent(new Event('submit', {cancelable: true})); }""")
    assert module_page.evaluate("window.__sent") == [{"name": "Ada", "age": 36, "plan": "pro", "news": True}]
    assert module_page.get_by_role("button", name="Submit").is_disabled()


def test_a_required_field_left_empty_sends_nothing(module_page: Any) -> None:
    module_page.evaluate(MOUNT, FORM)
    module_page.get_by_role("button", name="Submit").click()
    assert module_page.evaluate("window.__sent") == []


@pytest.mark.parametrize(("component", "payload", "message"), [
    ("form", "not an object", "payload must be a JSON object"),
    ("form", {"fields": "name"}, "payload.fields must be a list"),
    ("FormComponent", {"fields": [{"label": "no name"}]}, 'fields[0] needs a "name"'),
    ("", {"fields": [{"name": "x", "type": "<script>"}]}, "unknown type"),
    ("table", {"rows": [[1, 2]]}, "payload.columns must be a list"),
    ("", {"options": []}, "payload.options is empty"),
])
def test_a_malformed_payload_renders_a_clear_error_card(module_page: Any, component: str, payload: Any,
                                                        message: str) -> None:
    data = {"tool_name": "broken_tool", "component_type": component, "awaiting_response": True, "payload": payload}
    result = module_page.evaluate(MOUNT, data)
    assert result["broken"] is True
    assert "broken_tool" in result["text"]
    assert message in result["text"]
    assert module_page.locator("script").count() == 0


def test_choice_confirm_and_table_primitives_answer_with_their_value(module_page: Any) -> None:
    module_page.evaluate(MOUNT, {"component_type": "choice", "payload": {"prompt": "Pick", "options": ["red", "blue"]}})
    module_page.get_by_role("button", name="blue").click()
    module_page.get_by_role("button", name="red").click(force=True)
    assert module_page.evaluate("window.__sent") == [{"choice": "blue"}]
    module_page.evaluate(MOUNT, {"component_type": "confirm", "payload": {"message": "Sure?"}})
    module_page.get_by_role("button", name="Cancel").click()
    assert module_page.evaluate("window.__sent") == [{"confirmed": False}]
    module_page.evaluate(MOUNT, {"component_type": "table", "awaiting_response": False,
                                 "payload": {"title": "Prices", "rows": [{"plan": "Pro", "price": "<b>9</b>"}]}})
    assert module_page.get_by_role("table", name="Prices").inner_text().count("<b>9</b>") == 1


def test_a_workspace_component_registered_by_name_replaces_the_generic_renderer(module_page: Any) -> None:
    result = module_page.evaluate("""async () => {
      const tools = await import('/static/mozaiks/chat/ui-tools.js');
      tools.registerComponent('PriceCard', { render(payload, { respond, el }) {
        const button = el('button', { type: 'button', text: `Buy ${payload.plan}` });
        button.addEventListener('click', () => respond({ bought: payload.plan }));
        return button;
      } });
      window.__sent = [];
      const holder = tools.renderUiTool({ component_type: 'PriceCard', payload: { plan: 'Pro' } },
                                        (response) => window.__sent.push(response));
      document.getElementById('root').replaceChildren(holder);
      return holder.textContent;
    }""")
    assert result == "Buy Pro"
    module_page.get_by_role("button", name="Buy Pro").click()
    assert module_page.evaluate("window.__sent") == [{"bought": "Pro"}]
