import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';

import type { AppRouter, inferRouterInputs, inferRouterOutputs } from '@zkha/api';

import { authLink } from '../features/auth/auth-link.ts';
import { authStore } from '../features/auth/auth-store.ts';
import { connectionLink } from '../features/connection/connection-link.ts';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

/** Same origin: the server serves this app at /ui/ and the API at /trpc (Vite's dev server proxies it). */
const TRPC_URL = '/trpc';

/** The session cookie goes along (same origin only); changes carry the session's CSRF token. */
const sameOriginFetch: typeof fetch = (input, init) => fetch(input, { ...init, credentials: 'same-origin' });

function csrfHeaders(): Record<string, string> {
  const csrf = authStore.csrfToken();
  return csrf ? { 'x-csrf-token': csrf } : {};
}

/** Subscriptions go over SSE (httpSubscriptionLink reconnects and resumes from the last tracked id), the rest batched. */
export function createClient() {
  return createTRPCClient<AppRouter>({
    links: [
      connectionLink(),
      authLink(),
      splitLink({
        condition: (op) => op.type === 'subscription',
        // A same-origin EventSource sends the session cookie by itself.
        true: httpSubscriptionLink({ url: TRPC_URL }),
        false: httpBatchLink({ url: TRPC_URL, fetch: sameOriginFetch, headers: csrfHeaders }),
      }),
    ],
  });
}

/** What a subscription yields, without tRPC's tracked envelope: `StreamedData<RouterOutputs['workload']['onProgress']>`. */
export type StreamedData<T> = T extends AsyncIterable<infer Y> ? (Y extends { id: string; data: infer D } ? D : Y) : never;
