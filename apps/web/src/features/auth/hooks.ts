import { useSyncExternalStore } from 'react';

import { authStore, type AuthState, type Me } from './auth-store.ts';

export function useAuthState(): AuthState {
  return useSyncExternalStore(authStore.subscribe, authStore.get);
}

/** The signed-in identity, or null (checking, signed out, or the server was unreachable). */
export function useMe(): Me | null {
  const s = useAuthState();
  return s.status === 'signed-in' ? s.me : null;
}

/** True when changes would be refused anyway: a viewer, or a server in read-only mode. */
export function useReadOnly(): boolean {
  const me = useMe();
  return me !== null && (me.role === 'viewer' || me.readOnly);
}
