// The ChatUI auth adapter for MozaiksCore: the signed-in session gets a client token
// (POST /api/auth/client-token), which the ChatUI sends as Bearer on HTTP and as
// ?access_token= on the chat socket. The token is refreshed a minute before it expires.
const TOKEN_URL = '/api/auth/client-token';
const LOGIN_URL = '/accounts/login/';

export async function createMozaiksCoreAuthAdapter({ tokenUrl = TOKEN_URL, loginUrl = LOGIN_URL } = {}) {
  let current = null;
  let timer = null;
  const listeners = new Set();

  async function requestToken() {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (current?.access_token) headers.Authorization = `Bearer ${current.access_token}`;
    const response = await fetch(tokenUrl, { method: 'POST', credentials: 'same-origin', headers, body: '{}' });
    if (!response.ok) return null;
    return response.json();
  }

  async function refresh() {
    const next = await requestToken().catch(() => null);
    current = next;
    clearTimeout(timer);
    if (next) {
      timer = setTimeout(refresh, Math.max(5, next.expires_in - 60) * 1000);
    }
    listeners.forEach((listener) => listener(current?.user ?? null));
    return current;
  }

  await refresh();
  if (!current) {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(`${loginUrl}?next=${next}`);
  }

  const adapter = {
    authConfig: { roles: { claimPath: 'roles', default: 'user', admin: 'admin', adminEmails: [] } },
    getUser: () => current?.user ?? null,
    getCurrentUser: async () => current?.user ?? null,
    isAuthenticated: () => Boolean(current),
    getAccessToken: () => current?.access_token ?? null,
    getToken: async () => current?.access_token ?? null,
    refreshToken: refresh,
    login: async () => { window.location.assign(loginUrl); return false; },
    logout: async () => { window.location.assign('/accounts/logout/'); },
    onAuthStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() { clearTimeout(timer); },
  };
  window.mozaiksAuth = adapter; // the ChatUI's api.js reads window.mozaiksAuth.getAccessToken()
  return adapter;
}
