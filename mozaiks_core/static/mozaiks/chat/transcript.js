// Building blocks of the transcript: message bubbles with the agent's avatar and colour,
// streamed drafts, collapsible tool steps and notices. Pure DOM; no state beyond the nodes.

import { setMarkdown } from "./markdown.js";

const USER_NAMES = new Set(["user", "you", "human"]);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const GEAR_PATH = "M13.2 6L15.4 6.7L15.4 9.3L13.2 10L13.1 10.2L14.2 12.3L12.3 14.2L10.2 13.1L10 13.2L9.3 15.4L6.7 15.4"
  + "L6 13.2L5.8 13.1L3.7 14.2L1.8 12.3L2.9 10.2L2.8 10L0.6 9.3L0.6 6.7L2.8 6L2.9 5.8L1.8 3.7L3.7 1.8L5.8 2.9L6 2.8"
  + "L6.7 0.6L9.3 0.6L10 2.8L10.2 2.9L12.3 1.8L14.2 3.7L13.1 5.8ZM10.5 8a2.5 2.5 0 1 0-5 0a2.5 2.5 0 1 0 5 0Z";

/** A decorative 16×16 SVG icon: drawn, not a font glyph, so it shows whatever fonts the system has. */
export function icon(pathData, className) {
  const svg = document.createElementNS(SVG_NS, "svg");
  for (const [key, value] of Object.entries({
    class: className, viewBox: "0 0 16 16", width: "14", height: "14", fill: "currentColor",
    "fill-rule": "evenodd", "aria-hidden": "true", focusable: "false",
  })) svg.setAttribute(key, value);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

export function isUser(agent) {
  return USER_NAMES.has(String(agent ?? "").toLowerCase());
}

/** A stable hue for an agent name, so each agent keeps its colour across reloads. */
export function agentHue(name) {
  let hash = 0;
  for (const ch of String(name)) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  return hash;
}

function avatar(agent) {
  const name = String(agent || "?");
  const capitals = name.match(/[A-Z0-9]/g) ?? [];
  const initials = (capitals.length ? capitals.slice(0, 2).join("") : name.slice(0, 2)) || "?";
  const node = el("span", { class: "mzc-avatar", "aria-hidden": "true", text: initials.toUpperCase() });
  node.style.setProperty("--mzc-agent-hue", agentHue(agent));
  return node;
}

function timeLabel(timestamp) {
  if (!timestamp) return null;
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return null;
  return el("time", { datetime: date.toISOString(), text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
}

/** A message bubble: avatar, agent name, time and the Markdown body. */
export function messageItem({ agent, content, timestamp, seq }) {
  const user = isUser(agent);
  const name = user ? "You" : String(agent || "Assistant");
  const body = setMarkdown(el("div", { class: "mzc-md mzc-body" }), content);
  const item = el("li", { class: `mzc-message ${user ? "mzc-from-user" : "mzc-from-agent"}`, "data-seq": seq },
    avatar(user ? "You" : name),
    el("div", { class: "mzc-bubble" },
      el("div", { class: "mzc-meta" }, el("span", { class: "mzc-agent", text: name }), timeLabel(timestamp)),
      body));
  item.style.setProperty("--mzc-agent-hue", agentHue(user ? "You" : name));
  return item;
}

/** The bubble that grows while a model streams `chat.print` deltas. */
export function draftItem(agent) {
  const item = messageItem({ agent, content: "" });
  item.classList.add("mzc-draft");
  item.setAttribute("aria-hidden", "true");
  return item;
}

/** A collapsible step for an agent tool call; its result is filled in when it arrives. */
export function toolStepItem({ tool_name: toolName, name, arguments: args, agent, seq }) {
  const label = String(toolName ?? name ?? "tool");
  const pre = el("pre", { class: "mzc-step-args" });
  pre.textContent = args === undefined ? "" : JSON.stringify(args, null, 2);
  const details = el("details", { class: "mzc-step" },
    el("summary", {}, icon(GEAR_PATH, "mzc-icon mzc-step-icon"),
      el("span", { text: `${agent ? `${agent} used ` : "Tool "}${label}` }),
      el("span", { class: "mzc-step-state mzc-muted", text: "running…" })),
    el("h4", { class: "mzc-step-heading", text: "Arguments" }), pre);
  return el("li", { class: "mzc-step-item", "data-seq": seq }, details);
}

/** "paid_search" / "budgetSplit" → "Paid search" / "Budget split". */
export function humanKey(key) {
  const words = String(key).replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function scalar(value) {
  if (value === null || value === undefined || value === "") return el("span", { class: "mzc-muted", text: "—" });
  if (typeof value === "number") return document.createTextNode(value.toLocaleString());
  if (typeof value === "boolean") return document.createTextNode(value ? "Yes" : "No");
  return document.createTextNode(String(value));
}

const isRecord = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** Structured data as people read it: rows of records as a table, a record as label/value pairs,
 * a list as a list. Deeper than four levels falls back to JSON text. */
export function structuredView(value, depth = 0) {
  if (value === null || typeof value !== "object") return scalar(value);
  if (depth > 3) return el("code", { text: JSON.stringify(value) });
  if (Array.isArray(value)) {
    if (value.length && value.every(isRecord)) {
      const keys = [...new Set(value.flatMap((row) => Object.keys(row)))];
      return el("div", { class: "mzc-table-wrap" }, el("table", { class: "mzc-table" },
        el("thead", {}, el("tr", {}, ...keys.map((key) => el("th", { scope: "col", text: humanKey(key) })))),
        el("tbody", {}, ...value.map((row) => el("tr", {}, ...keys.map((key) => el("td", {}, structuredView(row[key], depth + 1))))))));
    }
    return el("ul", { class: "mzc-list" }, ...value.map((item) => el("li", {}, structuredView(item, depth + 1))));
  }
  const entries = Object.entries(value);
  if (!entries.length) return el("span", { class: "mzc-muted", text: "—" });
  return el("dl", { class: "mzc-kv" }, ...entries.flatMap(([key, item]) => [
    el("dt", { text: humanKey(key) }), el("dd", {}, structuredView(item, depth + 1))]));
}

function parsed(value) {
  if (typeof value !== "string") return value;
  const text = value.trim();
  if (!text.startsWith("{") && !text.startsWith("[")) return value;
  try { return JSON.parse(text); } catch { return value; }
}

/** Attach a tool result to its step (or make a step of its own when the call is unknown).
 * A structured result is shown readably beside the step; its raw JSON stays inside "Details". */
export function fillToolResult(stepItem, { content, result, is_error: isError, status }) {
  const details = stepItem.querySelector("details");
  const value = parsed(result ?? content);
  const pre = el("pre", { class: "mzc-step-result" });
  pre.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  details.append(el("h4", { class: "mzc-step-heading", text: "Result (raw)" }), pre);
  if (value !== null && typeof value === "object" && !stepItem.querySelector(".mzc-structured")) {
    stepItem.append(el("div", { class: "mzc-structured" }, structuredView(value)));
  }
  const state = details.querySelector(".mzc-step-state");
  const failed = isError || status === "error";
  state.textContent = failed ? "failed · details" : "done · details";
  if (failed) details.classList.add("mzc-step-failed");
}

/** A one-line system notice in the transcript (run finished, speaker changed...). */
export function noticeItem(text, kind = "info", seq = undefined) {
  return el("li", { class: `mzc-notice mzc-notice-${kind}`, "data-seq": seq, text });
}

/** An error panel: what happened, the code, and optionally a link that fixes it. */
export function errorPanel({ title, message, code, link }) {
  const panel = el("div", { class: "mzc-error" },
    el("strong", { text: title }),
    el("p", { text: message || "" }));
  if (code) panel.append(el("p", { class: "mzc-muted" }, el("code", { text: code })));
  if (link) panel.append(el("p", {}, el("a", { href: link.href, class: "button", text: link.label })));
  return panel;
}
