"""The safe Markdown renderer, run as the real ES module in Chromium: model output never injects."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RENDER = """async (source) => {
  const { renderMarkdown } = await import('/static/mozaiks/chat/markdown.js');
  const holder = document.createElement('div');
  holder.innerHTML = renderMarkdown(source);
  document.getElementById('root').replaceChildren(holder);
  const tags = [...holder.querySelectorAll('*')].map((node) => node.tagName.toLowerCase());
  const attributes = [...holder.querySelectorAll('*')].flatMap((node) => [...node.attributes]
    .map((a) => `${node.tagName.toLowerCase()}.${a.name}=${a.value}`));
  return { html: holder.innerHTML, text: holder.textContent, tags, attributes };
}"""

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "a"}

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "<svg><script>window.__pwned=1</script></svg>",
    "[click](javascript:window.__pwned=1)",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    '[x](https://example.com/" onmouseover="window.__pwned=1)',
    "```html\n<iframe src='https://evil.example'></iframe>\n```",
    "**<b onclick=alert(1)>bold</b>**",
    "`<script>`",
    "<a href='https://example.com'>raw link</a>",
    "&lt;script&gt; already escaped",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_html_and_script_in_model_output_render_as_text(module_page: Any, source: str) -> None:
    result = module_page.evaluate(RENDER, source)
    assert set(result["tags"]) <= ALLOWED_TAGS, result["html"]
    for attribute in result["attributes"]:
        name = attribute.split("=", 1)[0]
        assert name in {"a.href", "a.rel", "a.target", "pre.data-language"}, attribute
        if name == "a.href":
            assert attribute.startswith(("a.href=http://", "a.href=https://")), attribute
    assert not any(attribute.split("=", 1)[0].split(".")[1].startswith("on") for attribute in result["attributes"])
    assert module_page.evaluate("window.__pwned") is None


def test_the_whitelist_renders_paragraphs_emphasis_code_lists_and_links(module_page: Any) -> None:
    source = ("Hello **world** and *you*.\n\nSecond `x < 1` line\n\n- one\n- two [docs](https://example.com/a?b=1&c=2)\n\n"
              "1. first\n2. second\n\n```python\nprint('<tag>')\n```")
    result = module_page.evaluate(RENDER, source)
    html = result["html"]
    assert "<strong>world</strong>" in html
    assert "<em>you</em>" in html
    assert "<code>x &lt; 1</code>" in html
    assert "<ul><li>one</li><li>two <a href=\"https://example.com/a?b=1&amp;c=2\"" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert '<pre data-language="python"><code>print(\'&lt;tag&gt;\')</code></pre>' in html
    assert html.count("<p>") == 2


def test_very_long_messages_and_code_blocks_render_quickly_and_are_truncated_safely(module_page: Any) -> None:
    timing = module_page.evaluate("""async () => {
      const { renderMarkdown } = await import('/static/mozaiks/chat/markdown.js');
      const long = ('word **bold** `code` <i>x</i> ').repeat(20000);
      const code = '```\\n' + 'let x = "<script>";\\n'.repeat(20000) + '```';
      const started = performance.now();
      const a = renderMarkdown(long);
      const b = renderMarkdown(code);
      return { ms: performance.now() - started, a: a.length, truncated: a.includes('[message truncated]'),
               scriptInCode: b.includes('<script>'), pre: b.startsWith('<pre><code>') };
    }""")
    assert timing["truncated"] is True
    assert timing["scriptInCode"] is False
    assert timing["pre"] is True
    assert timing["ms"] < 2000
