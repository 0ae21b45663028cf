// UI tools: render a `chat.tool_call` awaiting a response from its payload. Generic primitives
// (card, form, confirm, choice, table) ship here; a workspace adds its own components as ES
// modules listed by the page's component manifest. A payload that does not fit its component
// becomes an error card; the run is never blocked by the page.

import { setMarkdown } from "./markdown.js";

const registry = new Map();

/** Make `module` (an object with `render(payload, context)` returning an Element) a component. */
export function registerComponent(name, module) {
  const render = typeof module === "function" ? module : module?.render ?? module?.default;
  if (typeof render !== "function") throw new TypeError(`Component ${name} has no render(payload, context) function.`);
  registry.set(String(name).toLowerCase(), render);
}

/** Load the workspace's components from the manifest the page serves; failures are logged, not fatal. */
export async function loadWorkspaceComponents(manifestUrl) {
  try {
    const response = await fetch(manifestUrl, { credentials: "same-origin" });
    if (!response.ok) return [];
    const { components = [] } = await response.json();
    const loaded = await Promise.allSettled(
      components.map(async ({ name, url }) => registerComponent(name, await import(url))),
    );
    return loaded.filter((result) => result.status === "fulfilled").length;
  } catch {
    return 0;
  }
}

export class PayloadError extends Error {}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function requireType(value, type, what) {
  const ok = type === "array" ? Array.isArray(value) : typeof value === type && value !== null;
  if (!ok) throw new PayloadError(`${what} must be ${type === "array" ? "a list" : `a ${type}`}.`);
  return value;
}

function heading(payload) {
  return payload.title ? el("h3", { class: "mzc-tool-title", text: String(payload.title) }) : null;
}

function description(payload) {
  const text = payload.description ?? payload.message ?? payload.prompt ?? payload.body;
  return text ? setMarkdown(el("div", { class: "mzc-md" }), String(text)) : null;
}

let fieldCounter = 0;

function formField(field, index) {
  requireType(field, "object", `fields[${index}]`);
  const name = field.name ?? field.id;
  if (typeof name !== "string" || !name) throw new PayloadError(`fields[${index}] needs a "name".`);
  const id = `mzc-field-${(fieldCounter += 1)}`;
  const type = field.type ?? "text";
  const label = el("label", { for: id, text: String(field.label ?? name) + (field.required ? " *" : "") });
  let input;
  if (type === "textarea") {
    input = el("textarea", { id, name, rows: 3 });
  } else if (type === "select") {
    const options = requireType(field.options, "array", `fields[${index}].options`);
    input = el("select", { id, name });
    for (const option of options) {
      const value = typeof option === "object" ? option.value : option;
      input.append(el("option", { value, text: String(typeof option === "object" ? option.label ?? value : option) }));
    }
  } else if (type === "checkbox") {
    input = el("input", { id, name, type: "checkbox" });
    if (field.default) input.checked = true;
    return el("div", { class: "mzc-field mzc-field-check" }, input, label);
  } else if (["text", "email", "number", "url", "date", "tel", "password"].includes(type)) {
    input = el("input", { id, name, type });
  } else {
    throw new PayloadError(`fields[${index}] has unknown type "${type}" (text, textarea, number, email, select, checkbox...).`);
  }
  if (field.required) input.required = true;
  if (field.placeholder) input.placeholder = String(field.placeholder);
  if (field.default !== undefined && type !== "checkbox") input.value = String(field.default);
  return el("div", { class: "mzc-field" }, label, input);
}

function formValues(form) {
  const values = {};
  for (const input of form.querySelectorAll("input, textarea, select")) {
    if (!input.name) continue;
    if (input.type === "checkbox") values[input.name] = input.checked;
    else if (input.type === "number") values[input.name] = input.value === "" ? null : Number(input.value);
    else values[input.name] = input.value;
  }
  return values;
}

const primitives = {
  card(payload, { respond }) {
    const box = el("div", { class: "mzc-tool-card" }, heading(payload), description(payload));
    const label = payload.action_label ?? payload.button ?? "Continue";
    const button = el("button", { type: "button", text: String(label) });
    button.addEventListener("click", () => respond({ acknowledged: true }));
    box.append(el("div", { class: "mzc-actions" }, button));
    return box;
  },
  form(payload, { respond }) {
    const fields = requireType(payload.fields, "array", "payload.fields");
    const form = el("form", { class: "mzc-tool-form", novalidate: false }, heading(payload), description(payload));
    fields.forEach((field, index) => form.append(formField(field, index)));
    form.append(el("div", { class: "mzc-actions" }, el("button", { type: "submit", text: String(payload.submit_label ?? "Submit") })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      respond(formValues(form));
    });
    return form;
  },
  confirm(payload, { respond }) {
    const box = el("div", { class: "mzc-tool-card", role: "group" }, heading(payload), description(payload));
    const yes = el("button", { type: "button", text: String(payload.confirm_label ?? "Confirm") });
    const no = el("button", { type: "button", class: "mzc-secondary", text: String(payload.cancel_label ?? "Cancel") });
    yes.addEventListener("click", () => respond({ confirmed: true }));
    no.addEventListener("click", () => respond({ confirmed: false }));
    box.append(el("div", { class: "mzc-actions" }, yes, no));
    return box;
  },
  choice(payload, { respond }) {
    const options = requireType(payload.options ?? payload.choices, "array", "payload.options");
    if (!options.length) throw new PayloadError("payload.options is empty: give at least one choice.");
    const box = el("div", { class: "mzc-tool-card", role: "group" }, heading(payload), description(payload));
    const row = el("div", { class: "mzc-actions mzc-choices" });
    for (const option of options) {
      const value = typeof option === "object" && option !== null ? option.value : option;
      const button = el("button", { type: "button", class: "mzc-secondary", text: String(option?.label ?? value) });
      button.addEventListener("click", () => respond({ choice: value }));
      row.append(button);
    }
    box.append(row);
    return box;
  },
  table(payload, { respond, awaiting }) {
    const rows = requireType(payload.rows, "array", "payload.rows");
    const columns = payload.columns ?? (rows[0] && !Array.isArray(rows[0]) ? Object.keys(rows[0]) : null);
    requireType(columns, "array", "payload.columns");
    const table = el("table", { class: "mzc-table" });
    if (payload.title) table.append(el("caption", { text: String(payload.title) }));
    const head = el("tr");
    for (const column of columns) head.append(el("th", { scope: "col", text: String(column?.label ?? column) }));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      columns.forEach((column, index) => {
        const key = column?.key ?? column;
        const value = Array.isArray(row) ? row[index] : row?.[key];
        tr.append(el("td", { text: value === undefined || value === null ? "" : String(value) }));
      });
      body.append(tr);
    }
    table.append(body);
    const box = el("div", { class: "mzc-tool-card mzc-table-wrap" }, table);
    if (awaiting) {
      const button = el("button", { type: "button", text: String(payload.action_label ?? "Continue") });
      button.addEventListener("click", () => respond({ acknowledged: true }));
      box.append(el("div", { class: "mzc-actions" }, button));
    }
    return box;
  },
};

for (const [name, render] of Object.entries(primitives)) registerComponent(name, render);

function inferComponent(payload) {
  if (Array.isArray(payload.fields)) return "form";
  if (Array.isArray(payload.rows)) return "table";
  if (Array.isArray(payload.options) || Array.isArray(payload.choices)) return "choice";
  return "card";
}

/** Pick the renderer for a tool call: its declared component, else one inferred from the payload. */
export function resolveRenderer(componentType, payload) {
  const declared = String(componentType ?? "").toLowerCase();
  if (registry.has(declared)) return registry.get(declared);
  const stripped = declared.replace(/(component|card|tool)$/, "");
  if (stripped && registry.has(stripped)) return registry.get(stripped);
  return registry.get(inferComponent(payload));
}

/** An error card naming what is wrong with a tool call's payload. */
export function errorCard(toolName, message) {
  return el("div", { class: "mzc-tool-error", role: "alert" },
    el("strong", { text: `The “${toolName || "UI tool"}” panel could not be shown.` }),
    el("p", { text: message }));
}

/**
 * Render a UI tool. `respond(response)` sends the answer at most once: the element is locked
 * after the first call, so double clicks and double submits never send twice.
 */
export function renderUiTool(data, send) {
  const toolName = data.tool_name ?? data.name ?? "";
  const payload = data.payload;
  let answered = false;
  const holder = el("div", { class: "mzc-tool" });
  const respond = (response) => {
    if (answered) return false;
    answered = true;
    lockTool(holder, "Sent.");
    send(response);
    return true;
  };
  try {
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
      throw new PayloadError("payload must be a JSON object.");
    }
    const render = resolveRenderer(data.component_type, payload);
    const node = render(payload, { respond, awaiting: data.awaiting_response !== false, toolName, el });
    if (!(node instanceof Element)) throw new PayloadError(`component ${data.component_type} returned no element.`);
    holder.append(node);
  } catch (error) {
    holder.append(errorCard(toolName, error instanceof Error ? error.message : String(error)));
    holder.dataset.broken = "true";
  }
  return holder;
}

/** Disable every control of a rendered tool (answered, completed or dismissed). */
export function lockTool(holder, note) {
  holder.dataset.locked = "true";
  for (const control of holder.querySelectorAll("button, input, select, textarea")) control.disabled = true;
  if (note && !holder.querySelector(".mzc-tool-note")) holder.append(el("p", { class: "mzc-tool-note mzc-muted", text: note }));
}
