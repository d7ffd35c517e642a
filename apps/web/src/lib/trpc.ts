import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';

import type { AppRouter, inferRouterInputs, inferRouterOutputs } from '@zkha/api';

import { connectionLink } from '../features/connection/connection-link.ts';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

/** Same origin: the server serves this app at /ui/ and the API at /trpc (Vite's dev server proxies it). */
const TRPC_URL = '/trpc';

/** Subscriptions go over SSE (httpSubscriptionLink reconnects and resumes from the last tracked id), the rest batched. */
export function createClient() {
  return createTRPCClient<AppRouter>({
    links: [
      connectionLink(),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: TRPC_URL }),
        false: httpBatchLink({ url: TRPC_URL }),
      }),
    ],
  });
}
