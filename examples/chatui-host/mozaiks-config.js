// Runs before any ChatUI module: the ChatUI reads window.ChatUIConfig once, when its config
// module loads, and otherwise talks to http://localhost:8080. Same origin as the page.
const wsOrigin = window.location.origin.replace(/^http/, 'ws');

window.ChatUIConfig = {
  api: { baseUrl: window.location.origin, wsUrl: wsOrigin },
  auth: { mode: 'token' },
  chat: { defaultAppId: document.documentElement.dataset.appId || undefined },
};
