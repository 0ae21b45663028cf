"""``{{ key|key_label:plan }}``: the words a customer reads for a feature, limit or meter key.

The catalog's own label wins (a ``labels`` mapping on the plan, when the catalog declares one);
otherwise the key is humanised: ``api_keys`` reads "API keys", ``tokens_monthly`` "Tokens monthly".
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()
ACRONYMS = {"api": "API", "ai": "AI", "sso": "SSO", "llm": "LLM", "url": "URL"}


def humanize_key(key: str) -> str:
    """``priority_support`` → ``Priority support`` (acronyms kept upper case)."""
    words = [ACRONYMS.get(word, word) for word in str(key).replace("-", "_").split("_") if word]
    if not words:
        return str(key)
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


@register.filter
def key_label(key: str, plan: Any = None) -> str:
    """The catalog's label for ``key`` on ``plan``, else the humanised key."""
    labels = getattr(plan, "labels", None)
    if isinstance(labels, dict) and isinstance(labels.get(key), str) and labels[key]:
        return labels[key]
    return humanize_key(key)
