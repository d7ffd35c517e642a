import type { Services } from '@zkha/services';

import type { RequestAuth } from './auth.ts';

/** Everything a procedure may use; built once per server (or per test) with real services. */
export interface InnerContext {
  services: Services;
  /**
   * The caller's identity and the server's access settings, per request. Absent for server-side callers
   * (tests' createCaller), which act as the local operator.
   */
  auth?: RequestAuth;
}

export function createContextInner(opts: InnerContext): InnerContext {
  return { services: opts.services, ...(opts.auth ? { auth: opts.auth } : {}) };
}

export type Context = InnerContext;
