"""A small, safe Markdown renderer for declarative pages (no raw HTML ever passes through).

Supports headings, paragraphs, bullet and numbered lists, fenced code, inline code, bold,
italic and links (http, https, mailto and site-relative only). Text is escaped before any markup.
"""

from __future__ import annotations

import re
from html import escape

from django.utils.safestring import SafeString, mark_safe

SAFE_URL = re.compile(r"^(https?://|mailto:|/|#)[^\s\"'<>]*$")
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1), match.group(2)
    if not SAFE_URL.match(url):
        return text
    return f'<a href="{url}">{text}</a>'


def render_inline(text: str) -> str:
    """Escape, then apply inline markup; code spans are protected from further markup."""
    parts = re.split(r"(`[^`]+`)", text)
    rendered = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            rendered.append(f"<code>{escape(part[1:-1])}</code>")
            continue
        chunk = escape(part, quote=True)
        chunk = LINK.sub(_link, chunk)
        chunk = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", chunk)
        chunk = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", chunk)
        rendered.append(chunk)
    return "".join(rendered)


def render_markdown(source: str) -> SafeString:
    """Render ``source`` to HTML that is safe to insert into a page."""
    html: list[str] = []
    paragraph: list[str] = []
    list_tag = ""
    lines = source.replace("\r\n", "\n").split("\n")
    index = 0

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            html.append(f"<p>{render_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = ""

    while index < len(lines):
        line = lines[index].rstrip()
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            html.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
        elif heading := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush()
            level = len(heading.group(1))
            html.append(f"<h{level}>{render_inline(heading.group(2))}</h{level}>")
        elif item := re.match(r"^([-*]|\d+\.)\s+(.*)$", stripped):
            tag = "ol" if item.group(1)[0].isdigit() else "ul"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            if not list_tag:
                html.append(f"<{tag}>")
                list_tag = tag
            html.append(f"<li>{render_inline(item.group(2))}</li>")
        elif not stripped:
            flush()
        else:
            if list_tag:
                flush()
            paragraph.append(stripped)
        index += 1
    flush()
    return mark_safe("\n".join(html))  # noqa: S308 (every piece above was escaped)
