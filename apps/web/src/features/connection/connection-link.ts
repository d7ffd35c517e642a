import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';

import type { AppRouter } from '@zkha/api';

import { reachability } from './reachability.ts';

/** A failure that never reached the server (fetch threw, or an answer that is not tRPC's, like a proxy's 502). */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TRPCClientError && (err.data === undefined || err.data === null) && !err.shape;
}

/**
 * Watches every operation on its way through and tells `reachability` what it saw: answers and (re)connected
 * event streams mean the server is there; failed fetches and event streams dropping mean it is not.
 * It never changes what passes through.
 */
export function connectionLink(): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const sub = next(op).subscribe({
          next(envelope) {
            const result = envelope.result as { type?: string; state?: string; error?: unknown };
            if (op.type !== 'subscription') {
              reachability.reportReachable();
            } else if (result.type === 'started' || (result.type === 'state' && result.state === 'pending')) {
              reachability.reportReachable();
            } else if (result.type === 'state' && result.state === 'connecting' && result.error) {
              reachability.reportLost({ probe: false });
            }
            observer.next(envelope);
          },
          error(err) {
            if (isNetworkError(err)) reachability.reportLost({ probe: true });
            else reachability.reportReachable();
            observer.error(err);
          },
          complete() {
            observer.complete();
          },
        });
        return () => sub.unsubscribe();
      });
}
