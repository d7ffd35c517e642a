/**
 * Who is acting, carried through async calls without threading a parameter through every service: the HTTP
 * layer opens a scope for each request (tRPC middleware, REST hook) and the operations log reads it when it
 * records. Anything recorded outside a request (timers, recovery at start-up) is `system`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** `token:<name>`, `session:<name>`, `local` (no authentication configured) or `system`. */
export type Actor = string;

export const SYSTEM_ACTOR: Actor = 'system';

interface ActorScope {
  actor: Actor;
  /**
   * False once the request that opened the scope has answered. Timers and loops started while handling a
   * request (a demo workload switched on, a migration pump woken) inherit its async context for ever; what
   * they record later is the system's doing, not the caller's.
   */
  open: boolean;
}

const storage = new AsyncLocalStorage<ActorScope>();

/** A scope opened by `enterActorScope`; `close()` ends attribution when the request is answered. */
export interface ActorScopeHandle {
  readonly actor: Actor;
  close(): void;
}

/**
 * Runs `fn` (a callback-style continuation such as a Fastify hook's `done`) inside a new actor scope and
 * returns the handle to close it later.
 */
export function enterActorScope(actor: Actor, fn: () => void): ActorScopeHandle {
  const scope: ActorScope = { actor, open: true };
  storage.run(scope, fn);
  return {
    actor,
    close() {
      scope.open = false;
    },
  };
}

/** Runs `fn` as `actor`; the scope closes when `fn` returns or its promise settles. */
export function runAsActor<T>(actor: Actor, fn: () => T): T {
  const scope: ActorScope = { actor, open: true };
  const close = () => {
    scope.open = false;
  };
  return storage.run(scope, () => {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      close();
      throw err;
    }
    if (result instanceof Promise) {
      return result.finally(close) as T;
    }
    close();
    return result;
  });
}

/** The identity acting right now, `system` outside any open request scope. */
export function currentActor(): Actor {
  const scope = storage.getStore();
  return scope?.open ? scope.actor : SYSTEM_ACTOR;
}
