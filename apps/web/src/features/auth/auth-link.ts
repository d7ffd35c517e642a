import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';

import type { AppRouter } from '@zkha/api';

import { authStore } from './auth-store.ts';

/** Sends the console back to its login page when any call is refused for want of a (valid) session. */
export function authLink(): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const sub = next(op).subscribe({
          next: (v) => observer.next(v),
          error(err) {
            const status = err instanceof TRPCClientError ? (err.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
            if (status === 401) authStore.reportUnauthorized(err.message);
            observer.error(err);
          },
          complete: () => observer.complete(),
        });
        return () => sub.unsubscribe();
      });
}
