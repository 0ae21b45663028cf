// The conversation page: shows the embedded transcript at once, then follows the chat socket
// (resume from the last seq, live events, reconnect). Input requests open the composer, UI tools
// render from their payload, errors explain themselves.

import { ChatConnection, socketUrl } from "./connection.js";
import { loadWorkspaceComponents, lockTool, renderUiTool } from "./ui-tools.js";
import { draftItem, el, errorPanel, fillToolResult, isUser, messageItem, noticeItem, structuredView, toolStepItem } from "./transcript.js";
import { setMarkdown } from "./markdown.js";

const boot = JSON.parse(document.getElementById("mzc-boot").textContent);
const $ = (id) => document.getElementById(id);
const app = $("mzc-app");
const transcript = $("mzc-transcript");
const live = $("mzc-live");
const composer = $("mzc-composer");
const input = $("mzc-input");
const send = $("mzc-send");
const prompt = $("mzc-prompt");
const banner = $("mzc-banner");
const connectionBadge = $("mzc-connection");
const newMessages = $("mzc-new-messages");
const FINISHED = ["completed", "failed", "cancelled"];
const REOPENING = new Set(["chat.text", "chat.tool_call", "chat.input_request", "chat.print"]);

const STATUS_LABELS = {
  created: "Created", running: "Running", waiting_input: "Waiting for your input", completed: "Completed",
  failed: "Failed", cancelled: "Cancelled", interrupted: "Interrupted",
};
const QUIET_TYPES = new Set(["chat.usage_delta", "chat.usage_summary", "chat.select_speaker"]);
const QUOTA_CODES = new Set(["TOKEN_BUDGET_EXCEEDED", "LIMIT_EXCEEDED", "ENTITLEMENT_REQUIRED"]);

const state = {
  status: boot.status,
  replaying: true,
  pendingInput: null, // {request_id, prompt, agent}
  tools: new Map(), // eventId → holder element
  answered: new Set(), // eventIds / request ids this page has already answered
  steps: new Map(), // tool_call_id → step item
  drafts: new Map(), // agent → draft item
  tokens: { total: 0, prompt: 0, completion: 0 },
  usageSeqs: new Set(), // seqs of the usage deltas already added to the figures: each counts once
  firstLiveEventAt: null,
  follow: true, // the transcript keeps the newest text in view until the reader scrolls up
  openTools: new Set(), // UI tools waiting for the user's answer
  currentSeq: null, // seq of the event being handled: every transcript item names the event it shows
};

function setStatus(status) {
  state.status = status;
  app.dataset.status = status;
  $("mzc-status").textContent = STATUS_LABELS[status] ?? status;
  if (FINISHED.includes(status)) finishReadOnly();
  const retry = $("mzc-retry-form");
  if (retry) retry.hidden = status !== "failed" && status !== "interrupted";
  const cancel = $("mzc-cancel-form");
  if (cancel) cancel.hidden = FINISHED.includes(status);
}

/** A new run (a retry) continues a finished chat: the composer comes back. */
function reopen() {
  $("mzc-readonly")?.remove();
  composer.hidden = false;
  state.status = "running";
  setStatus("running");
  connectionBadge.dataset.state = "open";
  connectionBadge.textContent = "Live";
}

function finishReadOnly() {
  closeInput();
  composer.hidden = true;
  state.openTools.clear();
  connectionBadge.dataset.state = "ended";
  connectionBadge.textContent = "Chat ended";
  if (!$("mzc-readonly")) {
    composer.before(el("p", { class: "mzc-readonly", id: "mzc-readonly", text: "This chat has finished; its transcript is read-only." }));
  }
  for (const holder of state.tools.values()) lockTool(holder, null);
}

function announce(text) {
  const line = el("p", { text: text.length > 200 ? `${text.slice(0, 200)}…` : text });
  live.append(line);
  while (live.childElementCount > 5) live.firstElementChild.remove();
}

const atBottom = () => transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 48;

/** Keep the newest text in view, unless the reader scrolled up: then offer the "new messages" pill. */
function followLatest() {
  if (state.follow || state.replaying) {
    transcript.scrollTop = transcript.scrollHeight;
    state.autoTop = transcript.scrollTop;
    newMessages.hidden = true;
  } else {
    newMessages.hidden = false;
  }
}

// Only the reader scrolling up stops following: text growing under a programmatic scroll does not.
transcript.addEventListener("scroll", () => {
  if (transcript.scrollTop < (state.autoTop ?? 0) - 4) state.follow = false;
  if (atBottom()) {
    state.follow = true;
    newMessages.hidden = true;
  }
  state.autoTop = Math.min(state.autoTop ?? 0, transcript.scrollTop);
});
newMessages.addEventListener("click", () => {
  state.follow = true;
  followLatest();
  transcript.focus({ preventScroll: true });
});

function append(item) {
  if (state.currentSeq !== null && item.dataset.seq === undefined) item.dataset.seq = state.currentSeq;
  transcript.append(item);
  followLatest();
  return item;
}

function showBanner(panel) {
  banner.replaceChildren(panel);
}

// --- composer -------------------------------------------------------------------------------

function openInput(data) {
  if (["completed", "failed", "cancelled"].includes(state.status)) return;
  const requestId = data.input_request_id ?? data.request_id;
  if (state.answered.has(requestId)) return;
  state.pendingInput = { request_id: requestId, prompt: data.prompt, agent: data.agent };
  const asker = data.agent && !String(data.prompt ?? "").includes(data.agent) ? `${data.agent} asks: ` : "";
  prompt.textContent = data.prompt ? `${asker}${data.prompt}` : "Your reply";
  input.disabled = false;
  send.disabled = false;
  composer.dataset.waiting = "true";
  setStatus("waiting_input");
  if (!state.replaying) input.focus();
}

function closeInput() {
  state.pendingInput = null;
  input.disabled = true;
  send.disabled = true;
  composer.dataset.waiting = "false";
  showIdlePrompt();
}

/** What the composer says while it is closed: the form to answer, or that the agents work. */
function showIdlePrompt() {
  if (state.pendingInput) return;
  prompt.textContent = state.openTools.size ? "Answer the form above to continue." : "Waiting for the agents…";
}

function submitInput() {
  const text = input.value.trim();
  const pending = state.pendingInput;
  if (!text || !pending) return;
  state.answered.add(pending.request_id);
  connection.send({ type: "user.input.submit", data: { text, input_request_id: pending.request_id } });
  append(messageItem({ agent: "user", content: text, timestamp: new Date().toISOString() })).classList.add("mzc-pending");
  input.value = "";
  closeInput();
  setStatus("running");
  state.follow = true; // who just answered wants to see the reply
  followLatest();
  transcript.focus({ preventScroll: true });
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  submitInput();
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submitInput();
  }
});

// --- UI tools -------------------------------------------------------------------------------

function showUiTool(data) {
  const eventId = data.eventId ?? data.corr ?? data.tool_call_id;
  if (state.tools.has(eventId)) return state.tools.get(eventId);
  const holder = renderUiTool(data, (response) => {
    if (state.answered.has(eventId)) return;
    state.answered.add(eventId);
    state.openTools.delete(eventId);
    showIdlePrompt();
    state.follow = true;
    connection.send({ type: "ui_tool_response", data: { eventId, response } });
  });
  if (data.awaiting_response !== false && holder.dataset.broken !== "true" && !FINISHED.includes(state.status)) {
    state.openTools.add(eventId);
    showIdlePrompt();
  }
  holder.dataset.eventId = eventId;
  state.tools.set(eventId, holder);
  if (data.display === "artifact") {
    $("mzc-artifacts").hidden = false;
    $("mzc-artifact-body").replaceChildren(holder);
    append(noticeItem(`${data.tool_name ?? "A panel"} opened in the artifacts panel.`, "info"));
  } else {
    append(el("li", { class: "mzc-tool-item" }, holder));
  }
  if (holder.dataset.broken === "true" && !state.replaying) {
    // A payload the page cannot show must not block the run: answer with a structured error.
    state.answered.add(eventId);
    connection.send({ type: "ui_tool_response", data: { eventId, response: { error: "UI_PAYLOAD_INVALID", message: holder.textContent } } });
    lockTool(holder, "The run was told this panel could not be shown.");
  } else if (!state.replaying) {
    holder.querySelector("input, textarea, select, button")?.focus();
  }
  if (!state.replaying) announce(`${data.tool_name ?? "A form"} needs your answer.`);
  return holder;
}

function closeUiTool(data, note) {
  const eventId = data.eventId ?? data.corr;
  const holder = state.tools.get(eventId);
  state.openTools.delete(eventId);
  showIdlePrompt();
  if (!holder) return;
  if (data.response && typeof data.response === "object") showAnswer(holder, data.response);
  lockTool(holder, note);
}

/** Put the submitted values back into a reloaded form (and list the ones it has no field for). */
function showAnswer(holder, response) {
  const rest = {};
  for (const [name, value] of Object.entries(response)) {
    const field = holder.querySelector(`[name="${CSS.escape(name)}"]`);
    if (field && field.type === "checkbox") field.checked = Boolean(value);
    else if (field) field.value = value ?? "";
    else rest[name] = value;
  }
  if (Object.keys(rest).length && !holder.querySelector(".mzc-answer")) {
    holder.append(el("div", { class: "mzc-answer" }, el("p", { class: "mzc-muted", text: "You answered:" }), structuredView(rest)));
  }
}

// --- events ---------------------------------------------------------------------------------

function markLatency(frame) {
  if (state.replaying || state.firstLiveEventAt !== null || !frame.timestamp) return;
  state.firstLiveEventAt = Date.now();
  requestAnimationFrame(() => {
    app.dataset.firstEventLatencyMs = String(Date.now() - Date.parse(frame.timestamp));
  });
}

function onText(data, frame) {
  const agent = data.agent ?? data.sender ?? (data.role === "user" ? "user" : "Assistant");
  if (isUser(agent) || data.role === "user") {
    const pending = transcript.querySelector(".mzc-pending");
    if (pending) {
      pending.classList.remove("mzc-pending");
      pending.dataset.seq = frame.seq;
      return;
    }
  }
  state.drafts.get(agent)?.remove();
  state.drafts.delete(agent);
  $("mzc-typing").hidden = true;
  append(messageItem({ agent, content: data.content ?? data.text ?? "", timestamp: frame.timestamp, seq: frame.seq }));
  if (!state.replaying) announce(`${isUser(agent) ? "You" : agent}: ${data.content ?? ""}`);
}

function onPrint(data) {
  const agent = data.agent || "Assistant";
  let draft = state.drafts.get(agent);
  if (!draft) {
    draft = append(draftItem(agent));
    draft.dataset.raw = "";
    state.drafts.set(agent, draft);
  }
  draft.dataset.raw += data.content ?? data.delta ?? "";
  setMarkdown(draft.querySelector(".mzc-body"), draft.dataset.raw);
  followLatest();
  const typing = $("mzc-typing");
  typing.hidden = false;
  typing.textContent = `${agent} is typing…`;
}

function onToolCall(data, frame) {
  if (data.awaiting_response || data.component_type) {
    showUiTool(data);
    return;
  }
  const step = append(toolStepItem({ ...data, seq: frame.seq }));
  state.steps.set(data.tool_call_id ?? data.id ?? `seq-${frame.seq}`, step);
}

function onToolResponse(data, frame) {
  let step = state.steps.get(data.tool_call_id);
  if (!step) step = append(toolStepItem({ ...data, seq: frame.seq }));
  fillToolResult(step, data);
}

function onError(data) {
  const code = data.error_code ?? data.code ?? "";
  if (QUOTA_CODES.has(code)) {
    showBanner(errorPanel({
      title: "Your organization has used up its quota",
      message: data.message ?? "The run stopped because the token budget is exhausted.",
      code, link: { href: data.upgrade_url ?? boot.upgrade_url, label: "Upgrade your plan" },
    }));
    banner.dataset.code = code;
    const quota = $("mzc-quota-used");
    if (quota && code === "TOKEN_BUDGET_EXCEEDED") {  // the next call does not fit: for the user, the quota is used up
      showQuota(Number(quota.dataset.used), { state: "limit" });
    }
    return;
  }
  if (code === "SCHEMA_VALIDATION_FAILED" || code === "RATE_LIMITED" || code === "NOT_WAITING_FOR_INPUT") {
    showBanner(errorPanel({ title: "The server could not accept that", message: data.message, code }));
    return;
  }
  showBanner(errorPanel({ title: "The run hit an error", message: data.message ?? "The model or a tool failed.", code }));
  banner.dataset.code = code;
}

/** Add a usage delta to the run's figures and, unless the rendered quota holds it already, to the quota. */
function onUsage(data, frame) {
  if (state.usageSeqs.has(frame.seq)) return;
  state.usageSeqs.add(frame.seq);
  const total = Number(data.total_tokens ?? 0);
  state.tokens.total += total;
  state.tokens.prompt += Number(data.prompt_tokens ?? 0);
  state.tokens.completion += Number(data.completion_tokens ?? 0);
  $("mzc-tokens").textContent = state.tokens.total.toLocaleString();
  $("mzc-token-split").textContent = `${state.tokens.prompt.toLocaleString()} / ${state.tokens.completion.toLocaleString()}`;
  // The server rendered the quota with every event up to quota_through_seq counted; a later
  // delta adds to it whether it arrives live, in the first resume or in a replay after a reconnect.
  if (frame.seq > boot.quota_through_seq) addToQuota(total);
}

function addToQuota(tokens) {
  const quota = $("mzc-quota-used");
  if (!quota) return;
  showQuota(Number(quota.dataset.used) + tokens);
}

/** The quota's state at ``used`` tokens: "ok", "warning" (past the threshold) or "limit". */
function quotaState(used, limit, warningPercent) {
  if (used >= limit) return "limit";
  return 100 * used >= warningPercent * limit ? "warning" : "ok";
}

/** Show ``used`` tokens of the quota: figures, bar width and colour, and the warning in words. */
function showQuota(used, summary = {}) {
  const quota = $("mzc-quota-used");
  if (!quota) return;
  const limit = Number(summary.limit ?? quota.dataset.limit ?? 1);
  const warningPercent = Number(summary.warning_percent ?? boot.quota_warning_percent ?? 80);
  quota.dataset.used = String(used);
  quota.dataset.limit = String(limit);
  quota.textContent = used.toLocaleString();
  const percent = Math.min(100, Math.round((100 * used) / (limit || 1)));
  const meter = $("mzc-quota-meter");
  meter.setAttribute("aria-valuenow", String(percent));
  meter.firstElementChild.style.width = `${percent}%`;
  const shownState = summary.state ?? quotaState(used, limit, warningPercent);
  meter.dataset.state = shownState;
  const notice = $("mzc-quota-notice");
  if (!notice) return;
  const link = el("a", { href: summary.upgrade_url ?? boot.upgrade_url }, "Upgrade your plan");
  notice.replaceChildren();
  notice.dataset.state = shownState;
  if (shownState === "warning") {
    notice.append(`Your organization has used ${percent}% of its AI tokens for this period `
      + `(${used.toLocaleString()} of ${limit.toLocaleString()}). `, link, " to keep going without interruption.");
  } else if (shownState === "limit") {
    notice.append(`Your organization's AI tokens for this period are used up (${used.toLocaleString()} of `
      + `${limit.toLocaleString()}), so the agents cannot answer until the period resets. `, link, " to continue now.");
  }
  notice.hidden = shownState === "ok";
}

/** ``chat.usage_summary``: the server's figures for the quota after a call (the page's own sum may lag). */
function onUsageSummary(data, frame) {
  if (frame.seq <= boot.quota_through_seq) return; // the rendered quota holds it already
  const shown = Number($("mzc-quota-used")?.dataset.used ?? 0);
  showQuota(Math.max(shown, Number(data.used ?? 0)), data);
}

const EVENT_HANDLERS = {
  "chat.text": onText,
  "chat.tool_call": onToolCall,
  "chat.tool_response": onToolResponse,
  "chat.input_request": (data) => openInput(data),
  "chat.ui_tool_complete": (data) => closeUiTool(data, "Answer received."),
  "chat.ui_tool_dismiss": (data) => closeUiTool(data, `Closed (${data.reason ?? "dismissed"}).`),
  "chat.usage_delta": onUsage,
  "chat.usage_summary": onUsageSummary,
  "chat.error": onError,
  "chat.select_speaker": () => {},
  "chat.run_complete": (data, frame) => {
    state.completedSeq = frame.seq;
    append(noticeItem(data.status === "failed" ? "The run failed." : "The run finished.", "done", frame.seq));
    setStatus(data.status === "failed" ? "failed" : "completed");
    if (!state.replaying) announce("The run finished.");
  },
};

/** A persisted chat event (seq'd), from the embedded transcript or the socket, exactly once. */
function handleEvent(frame) {
  markLatency(frame);
  if (FINISHED.includes(state.status) && REOPENING.has(frame.type) && frame.seq > (state.completedSeq ?? Infinity)) reopen();
  if (state.pendingInput && !QUIET_TYPES.has(frame.type)) {
    if (frame.type !== "chat.input_request") closeInput();
  }
  if (frame.type === "chat.input_request" || frame.type === "chat.tool_call") {
    if (state.status !== "completed") setStatus(frame.type === "chat.input_request" ? "waiting_input" : "running");
  } else if (state.status === "created" || state.status === "waiting_input") {
    setStatus("running");
  }
  const handler = EVENT_HANDLERS[frame.type];
  state.currentSeq = frame.seq;
  try {
    if (handler) handler(frame.data ?? {}, frame);
  } finally {
    state.currentSeq = null;
  }
}

/** A connection frame (no seq): meta, acks, resume boundary, re-sent open requests, print deltas. */
function handleFrame(frame) {
  const data = frame.data ?? {};
  switch (frame.type) {
    case "chat.print":
      onPrint(data);
      break;
    case "chat_meta":
      if (data.status && data.status !== state.status && state.status !== "completed") setStatus(data.status);
      break;
    case "chat.resume_boundary":
      state.replaying = false;
      if (data.status) setStatus(data.status);
      if (state.pendingInput && !state.pendingInput.focused) {
        state.pendingInput.focused = true;
        input.focus();
      }
      break;
    case "chat.input_request":
      openInput(data);
      if (!state.replaying) input.focus();
      break;
    case "chat.tool_call":
      showUiTool(data);
      break;
    case "chat.error":
      onError(data);
      break;
    default:
      break;
  }
}

function onConnectionState(connState, detail) {
  connectionBadge.dataset.state = connState;
  if (FINISHED.includes(state.status) && (connState === "open" || connState === "ended")) {
    connectionBadge.dataset.state = "ended";
    connectionBadge.textContent = "Chat ended"; // "Live" belongs to a chat that can still change
    return;
  }
  const labels = {
    connecting: "Connecting…", reconnecting: "Reconnecting…", open: "Live",
    lost: `Connection lost: retrying in ${Math.round((detail ?? 0) / 100) / 10} s`,
    refused: "Disconnected", ended: "Chat ended",
  };
  connectionBadge.textContent = labels[connState] ?? connState;
  if (connState === "lost") {
    state.replaying = true;
    showBanner(errorPanel({ title: "Connection lost", message: "Reconnecting automatically; nothing you have seen will be lost." }));
    banner.dataset.code = "CONNECTION_LOST";
  } else if (connState === "open" && banner.dataset.code === "CONNECTION_LOST") {
    banner.replaceChildren();
    banner.dataset.code = "";
  } else if (connState === "refused") {
    showBanner(errorPanel({ title: "This chat cannot be opened", message: String(detail) }));
  }
}

// --- start ----------------------------------------------------------------------------------

let lastSeq = -1;
if ($("mzc-quota-used")) showQuota(Number($("mzc-quota-used").dataset.used));
for (const frame of boot.events) {
  if (frame.seq !== lastSeq + 1) break;
  lastSeq = frame.seq;
  handleEvent(frame);
}
app.dataset.bootEvents = String(lastSeq + 1);
if (state.pendingInput) input.focus(); // a chat waiting for input reopens at that input
if (FINISHED.includes(boot.status)) finishReadOnly();
else if (FINISHED.includes(state.status)) reopen(); // a retry started a new run after the stored end
followLatest();

const connection = new ChatConnection(socketUrl(boot.ws_path), {
  onEvent: handleEvent, onFrame: handleFrame, onState: onConnectionState,
}, lastSeq);

loadWorkspaceComponents(boot.components_url).finally(() => {
  if (!["completed", "failed", "cancelled"].includes(boot.status) || lastSeq < 0) connection.connect();
  else {
    state.replaying = false;
    onConnectionState("ended"); // a finished chat needs no socket: say so instead of "Connecting…"
  }
});
window.addEventListener("online", () => {
  if (!connection.socket) connection.connect();
});
