/**
 * Who is using the console, as the server sees it (`GET /api/auth/me`), kept outside React so the tRPC links
 * can read the CSRF token and report a 401 without a hook. With no tokens on the server the answer is the
 * `local` operator and the console looks as it always did; with tokens, a 401 anywhere shows the login page.
 */
export interface Me {
  authRequired: boolean;
  kind: 'token' | 'session' | 'local';
  name: string;
  /** `session:alice`, `local`: what the operations log records. */
  actor: string;
  role: 'viewer' | 'operator';
  readOnly: boolean;
  /** Echoed in the x-csrf-token header of every change made with the session cookie. */
  csrfToken: string | null;
  expiresAt: string | null;
}

export type AuthState =
  | { status: 'checking' }
  | { status: 'signed-in'; me: Me }
  | { status: 'signed-out'; message: string | null }
  /** The server did not answer the first check: show the console (and its connection banner) as before. */
  | { status: 'unknown' };

let state: AuthState = { status: 'checking' };
const listeners = new Set<() => void>();

function set(next: AuthState): void {
  state = next;
  for (const l of listeners) l();
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `the server answered ${res.status}`;
  } catch {
    return `the server answered ${res.status}`;
  }
}

export const authStore = {
  // Arrow properties: useSyncExternalStore calls these two detached from the object.
  get: (): AuthState => state,
  subscribe: (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  csrfToken(): string | null {
    return state.status === 'signed-in' ? state.me.csrfToken : null;
  },

  /** Asks the server who we are; a 401 means the login page. */
  async check(): Promise<void> {
    try {
      const res = await fetch('/api/auth/me', { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) return set({ status: 'signed-in', me: (await res.json()) as Me });
      if (res.status === 401) return set({ status: 'signed-out', message: null });
      set({ status: 'unknown' });
    } catch {
      set({ status: 'unknown' });
    }
  },

  /** Logs in with a token (and optionally its name); resolves to an error message, or null on success. */
  async login(token: string, name?: string): Promise<string | null> {
    try {
      const res = await fetch('/api/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, ...(name ? { name } : {}) }),
      });
      if (!res.ok) return await errorMessage(res);
      set({ status: 'signed-in', me: (await res.json()) as Me });
      return null;
    } catch {
      return 'The server did not answer (connection lost).';
    }
  },

  async logout(): Promise<void> {
    const csrf = authStore.csrfToken();
    try {
      await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin', headers: csrf ? { 'x-csrf-token': csrf } : {} });
    } finally {
      set({ status: 'signed-out', message: 'You logged out.' });
    }
  },

  /** A call was refused with 401 (session expired, token revoked): back to the login page, saying why. */
  reportUnauthorized(message: string): void {
    if (state.status !== 'signed-out') set({ status: 'signed-out', message });
  },
};
