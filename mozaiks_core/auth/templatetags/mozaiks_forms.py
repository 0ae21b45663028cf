"""``{{ form|as_fields }}``: a form's fields as the shell lays them out (labels without colons,
checkboxes with their label beside them, help and errors tied to the input)."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _field(bound: Any) -> SafeString:
    described = []
    if bound.help_text:
        described.append(f"{bound.auto_id}-help")
    if bound.errors:
        described.append(f"{bound.auto_id}-errors")
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if bound.errors:
        attrs["aria-invalid"] = "true"
    widget = bound.as_widget(attrs=attrs)
    label = bound.label_tag(label_suffix="")
    help_text = format_html('<small class="help" id="{}-help">{}</small>', bound.auto_id, bound.help_text) \
        if bound.help_text else ""
    errors = format_html('<div class="field-errors" id="{}-errors">{}</div>', bound.auto_id, bound.errors) \
        if bound.errors else ""
    if isinstance(bound.field.widget, forms.CheckboxInput):
        return format_html('<div class="field field-check">{} {}{}{}</div>', widget, label, help_text, errors)
    invalid = " field-invalid" if bound.errors else ""
    return format_html('<div class="field{}">{}{}{}{}</div>', invalid, label, widget, help_text, errors)


@register.filter
def as_fields(form: Any) -> SafeString:
    """Render every visible field of ``form`` (hidden ones and non-field errors included)."""
    parts = [format_html('<div class="alert alert-error" role="alert">{}</div>', form.non_field_errors())
             if form.non_field_errors() else ""]
    parts += [_field(bound) for bound in form.visible_fields()]
    parts += [format_html_join("", "{}", ((str(bound),) for bound in form.hidden_fields()))]
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 (every part built by format_html)
