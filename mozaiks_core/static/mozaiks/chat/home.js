// The chat home: lists the capabilities this user may start (GET /api/ai/capabilities), starts
// one (POST /api/ai/launch) and opens its conversation; filters the history as you type.

const list = document.getElementById("mzc-capabilities");
const errorSlot = document.getElementById("mzc-start-error");

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function showError(body, status) {
  const code = body?.error ?? body?.error_code ?? `HTTP_${status}`;
  const panel = el("div", { class: "mzc-error" },
    el("strong", { text: ["TOKEN_BUDGET_EXCEEDED", "LIMIT_EXCEEDED"].includes(code)
      ? "Your organization has used up its quota"
      : status === 402 ? "Your plan does not allow this yet" : "The chat could not be started" }),
    el("p", { text: body?.message ?? "Please try again." }),
    el("p", { class: "mzc-muted" }, el("code", { text: code })));
  if (body?.upgrade_url) panel.append(el("p", {}, el("a", { href: body.upgrade_url, class: "button", text: "Upgrade your plan" })));
  errorSlot.replaceChildren(panel);
}

async function launch(capability, button) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  errorSlot.replaceChildren();
  try {
    const response = await fetch("/api/ai/launch", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ capability_id: capability.capability_id, force_new: true }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.chat_id) {
      showError(body, response.status);
      return;
    }
    window.location.assign(`/chat/${encodeURIComponent(body.chat_id)}/`);
  } catch {
    showError({ error: "NETWORK_ERROR", message: "The server could not be reached; check your connection." }, 0);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function capabilityCard(capability) {
  const title = capability.label || capability.workflow_name || capability.capability_id;
  const button = el("button", { type: "button", class: "mzc-start", "data-capability": capability.capability_id,
    text: `Start ${title}` });
  const card = el("li", { class: "mzc-capability" },
    el("span", { class: "mzc-capability-title", text: title }),
    capability.description ? el("span", { class: "mzc-muted", text: capability.description }) : null,
    button);
  if (capability.allowed === false) {
    button.disabled = true;
    const reasonId = `mzc-reason-${capability.capability_id}`;
    button.setAttribute("aria-describedby", reasonId);
    const reason = el("p", { class: "mzc-capability-reason", id: reasonId,
      text: capability.message || "Your plan does not include this workflow." });
    if (list.dataset.pricingUrl) reason.append(" ", el("a", { href: list.dataset.pricingUrl, text: "See plans" }));
    card.append(reason);
  } else {
    button.addEventListener("click", () => launch(capability, button));
  }
  return card;
}

async function loadCapabilities() {
  try {
    const response = await fetch("/api/ai/capabilities", { credentials: "same-origin" });
    const body = await response.json();
    const capabilities = (Array.isArray(body) ? body : body.capabilities ?? [])
      .filter((capability) => capability.visibility !== "admin" || capability.allowed);
    list.replaceChildren(capabilities.length
      ? el("ul", { class: "mzc-capability-list" }, ...capabilities.map(capabilityCard))
      : el("p", { class: "mzc-muted", text: "No workflow is available to you yet." }));
  } catch {
    list.replaceChildren(el("p", { class: "mzc-error", text: "The list of workflows could not be loaded; reload the page." }));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function filterHistory() {
  const search = document.getElementById("mzc-q");
  const history = document.getElementById("mzc-history");
  if (!search || !history) return;
  search.addEventListener("input", () => {
    const needle = search.value.trim().toLowerCase();
    let shown = 0;
    for (const item of history.children) {
      item.hidden = Boolean(needle) && !item.dataset.search.includes(needle);
      if (!item.hidden) shown += 1;
    }
    document.getElementById("mzc-history-empty").hidden = shown > 0;
  });
}

loadCapabilities();
filterHistory();
