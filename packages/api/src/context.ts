import type { Services } from '@zkha/services';

/** Everything a procedure may use; built once per server (or per test) with real services. */
export interface InnerContext {
  services: Services;
}

export function createContextInner(opts: InnerContext): InnerContext {
  return { services: opts.services };
}

export type Context = InnerContext;
