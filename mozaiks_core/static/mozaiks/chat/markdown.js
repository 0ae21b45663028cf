// Safe Markdown for model output: escape everything first, then re-allow a small whitelist
// (paragraphs, emphasis, inline code, fenced code blocks, lists, http(s) links). Nothing the
// model writes can become a tag or an attribute other than the ones built here.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };
const MAX_CHARS = 200000;

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"'`]/g, (ch) => ESCAPES[ch]);
}

function safeHref(escapedUrl) {
  // The URL was already escaped; only absolute http(s) URLs survive.
  return /^https?:\/\/[^\s]+$/i.test(escapedUrl) ? escapedUrl : null;
}

function inline(escaped) {
  // Split out inline code spans first so nothing inside them is formatted.
  const parts = escaped.split(/(&#96;[^\n]*?&#96;)/g);
  return parts.map((part, index) => {
    if (index % 2 === 1) return `<code>${part.slice(5, -5)}</code>`;
    let html = part;
    html = html.replace(/\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)/g, (match, label, url) => {
      const href = safeHref(url);
      return href ? `<a href="${href}" rel="noopener noreferrer nofollow" target="_blank">${label}</a>` : match;
    });
    html = html.replace(/\*\*([^*\n]+?)\*\*/g, "<strong>$1</strong>");
    html = html.replace(/(^|[^\w*])\*([^*\n]+?)\*(?!\w)/g, "$1<em>$2</em>");
    html = html.replace(/(^|[^\w])_([^_\n]+?)_(?!\w)/g, "$1<em>$2</em>");
    return html;
  }).join("");
}

function listBlock(lines, ordered) {
  const tag = ordered ? "ol" : "ul";
  const items = lines.map((line) => `<li>${inline(line.replace(/^\s*(?:[-*+]|\d{1,9}[.)])\s+/, ""))}</li>`);
  return `<${tag}>${items.join("")}</${tag}>`;
}

/** Render model text as HTML made only of whitelisted tags. */
export function renderMarkdown(source) {
  let text = String(source ?? "");
  let truncated = false;
  if (text.length > MAX_CHARS) {
    text = text.slice(0, MAX_CHARS);
    truncated = true;
  }
  const lines = escapeHtml(text).replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${paragraph.map(inline).join("<br>")}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = line.match(/^\s*&#96;&#96;&#96;\s*([\w+-]{0,30})/);
    if (fence) {
      flush();
      const code = [];
      i += 1;
      while (i < lines.length && !/^\s*&#96;&#96;&#96;\s*$/.test(lines[i])) {
        code.push(lines[i]);
        i += 1;
      }
      const language = fence[1] ? ` data-language="${fence[1]}"` : "";
      out.push(`<pre${language}><code>${code.join("\n")}</code></pre>`);
      continue;
    }
    const listMatch = line.match(/^\s*([-*+]|\d{1,9}[.)])\s+/);
    if (listMatch) {
      flush();
      const ordered = /\d/.test(listMatch[1]);
      const items = [];
      while (i < lines.length) {
        const item = lines[i].match(/^\s*([-*+]|\d{1,9}[.)])\s+/);
        if (!item || /\d/.test(item[1]) !== ordered) break;
        items.push(lines[i]);
        i += 1;
      }
      i -= 1;
      out.push(listBlock(items, ordered));
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line);
  }
  flush();
  if (truncated) out.push('<p class="mzc-truncated">[message truncated]</p>');
  return out.join("");
}

/** Put rendered Markdown into ``element`` (the one place the chat page assigns HTML). */
export function setMarkdown(element, source) {
  element.innerHTML = renderMarkdown(source);
  return element;
}
