import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  isNonJsonSerializable,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { EventSource as EventSourcePonyfill, type FetchLike } from 'eventsource';

// Type-only: the server's router must never reach a browser bundle.
import type { AppRouter } from '@zkha/api';

/** The fully typed tRPC client of a zkha server. */
export type ZkhaClient = TRPCClient<AppRouter>;

/** What `fetch` must look like to be given to the SDK (the global fetch of Node 20 and browsers fits). */
export type ZkhaFetch = typeof globalThis.fetch;

/** An EventSource constructor: the browser's, or one built on fetch such as the `eventsource` package's. */
export type ZkhaEventSource = typeof EventSourcePonyfill | typeof globalThis.EventSource;

export interface ZkhaClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080; the SDK adds /trpc. Relative URLs work in a browser page. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` with every request, subscriptions included. */
  token?: string;
  /** A fetch to use instead of the global one (proxies, custom certificates, tests). Used for SSE too. */
  fetch?: ZkhaFetch;
  /**
   * The EventSource for subscriptions. Defaults to the global one; on Node 20 (which has none), and whenever a
   * token or a fetch is given (a browser's EventSource can use neither), the fetch-based one from `eventsource`.
   */
  EventSource?: ZkhaEventSource;
}

/**
 * The tRPC endpoint for a server base URL: `http://host:8080/` → `http://host:8080/trpc`. A path prefix is kept
 * (`https://proxy/zkha` → `https://proxy/zkha/trpc`) for servers behind a reverse proxy.
 */
export function trpcUrl(base: string): string {
  const trimmed = base.trim();
  const origin = (globalThis as { location?: { href?: string } }).location?.href;
  const invalid = () => new TypeError(`invalid zkha server URL "${base}": expected an http(s) URL such as http://127.0.0.1:8080`);
  let url: URL;
  try {
    url = origin !== undefined ? new URL(trimmed, origin) : new URL(trimmed);
  } catch {
    throw invalid();
  }
  // "localhost:8080" parses with the scheme "localhost:": the same mistake as a missing scheme.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid();
  if (url.search || url.hash) {
    throw new TypeError(`invalid zkha server URL "${base}": give the server's base URL, without a query or fragment`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/trpc`;
  return url.toString();
}

/**
 * Creates the typed client of a zkha server: subscriptions over SSE (`httpSubscriptionLink`, resuming from the
 * last tracked id after a reconnect), FormData/Blob inputs such as `files.upload` as one plain request
 * (`httpLink`), and every other call batched (`httpBatchLink`).
 */
export function createZkhaClient(options: ZkhaClientOptions): ZkhaClient {
  const url = trpcUrl(options.url);
  const authorization = options.token !== undefined && options.token !== '' ? `Bearer ${options.token}` : null;
  const headers = (): Record<string, string> => (authorization ? { Authorization: authorization } : {});
  const baseFetch: ZkhaFetch | undefined = options.fetch;

  // A browser's EventSource sends no custom headers and takes no fetch: with a token or a fetch, use the fetch-based one.
  const globalEventSource = (globalThis as { EventSource?: ZkhaEventSource }).EventSource;
  const needsFetchBased = authorization !== null || baseFetch !== undefined;
  const chosen: ZkhaEventSource =
    options.EventSource ?? (!needsFetchBased && globalEventSource !== undefined ? globalEventSource : EventSourcePonyfill);
  // Typed as the ponyfill so `eventSourceOptions.fetch` type-checks; a browser EventSource ignores that option.
  const EventSourceImpl = chosen as typeof EventSourcePonyfill;

  const sseFetch: FetchLike = (input, init) => {
    const doFetch = baseFetch ?? globalThis.fetch;
    const sseHeaders: Record<string, string> = { ...init.headers };
    if (authorization) sseHeaders['Authorization'] = authorization;
    return doFetch(input, { ...init, headers: sseHeaders });
  };

  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource: EventSourceImpl,
          // Fetch-based EventSources use this fetch (token, custom fetch); a browser's EventSource ignores it.
          eventSourceOptions: { fetch: sseFetch },
        }),
        false: splitLink({
          condition: (op) => isNonJsonSerializable(op.input),
          true: httpLink({ url, headers, ...(baseFetch ? { fetch: baseFetch } : {}) }),
          false: httpBatchLink({ url, headers, ...(baseFetch ? { fetch: baseFetch } : {}) }),
        }),
      }),
    ],
  });
}
