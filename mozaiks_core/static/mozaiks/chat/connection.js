// The chat socket: connects stating the last seq it holds (?last_seq=, so the server sends only
// what follows), delivers every chat event once and in order (dedupe by seq, a gap triggers a
// client.resume), and reconnects with backoff.

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

export class ChatConnection {
  /**
   * @param {string} url      ws(s) URL of the chat socket
   * @param {object} handlers {onEvent(frame), onFrame(frame), onState(state, detail)}
   * @param {number} lastSeq  highest seq already shown (-1 for none)
   */
  constructor(url, handlers, lastSeq = -1) {
    this.url = url;
    this.handlers = handlers;
    this.lastSeq = lastSeq;
    this.socket = null;
    this.attempt = 0;
    this.closedByUs = false;
    this.outbox = [];
    this.timer = null;
  }

  connect() {
    this.closedByUs = false;
    this.handlers.onState?.(this.attempt ? "reconnecting" : "connecting");
    const socket = new WebSocket(positionUrl(this.url, this.lastSeq));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.handlers.onState?.("open");
      for (const frame of this.outbox.splice(0)) socket.send(JSON.stringify(frame));
    });
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closedByUs) return;
      if (event.code === 1008 || event.code === 4403 || event.code === 4404) {
        this.handlers.onState?.("refused", event.reason || "The server refused this chat connection.");
        return;
      }
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.handlers.onState?.("lost", delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  resume() {
    this.sendNow({ type: "client.resume", data: { last_seq: this.lastSeq } });
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "ping") {
      this.sendNow({ type: "pong", data: {} });
      return;
    }
    if (typeof frame.seq !== "number") {
      this.handlers.onFrame?.(frame);
      return;
    }
    if (frame.seq <= this.lastSeq) return; // already shown: a replay overlapping the live stream
    if (frame.seq > this.lastSeq + 1) {
      this.resume(); // a gap: ask again from what we hold; the replay fills it in order
      return;
    }
    this.lastSeq = frame.seq;
    this.handlers.onEvent?.(frame);
  }

  sendNow(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Send a frame now, or as soon as the socket is open again. */
  send(frame) {
    if (!this.sendNow(frame)) this.outbox.push(frame);
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }
}

/** ``url`` with ``last_seq`` set to the position this page holds (the server replays what follows). */
function positionUrl(url, lastSeq) {
  const parsed = new URL(url);
  parsed.searchParams.set("last_seq", String(lastSeq));
  return parsed.toString();
}

/** The ws(s) URL of a socket path on this page's host. */
export function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}
