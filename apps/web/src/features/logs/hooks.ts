import { useInfiniteQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';

import type { TOperationsListInput } from '@zkha/core/schemas';

import { useTRPC, useTRPCClient, type RouterOutputs } from '../../lib/trpc.ts';
import type { LogLevelName } from './highlight.ts';

export type OperationRecord = RouterOutputs['logs']['operations']['items'][number];
export type OperationFilters = Omit<TOperationsListInput, 'cursor' | 'limit'>;

export const PAGE_SIZE = 25;

/**
 * Operations newest first, paged by cursor ("Load older"). Not `infiniteQueryOptions`: it adds a `direction`
 * field to the input, which the shared strict schema refuses. The key sits under the procedure's path key, so
 * invalidating `logs.operations` refreshes it.
 */
export function useOperations(filters: OperationFilters) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  return useInfiniteQuery({
    queryKey: [...trpc.logs.operations.pathKey(), { input: filters, type: 'infinite' }] as const,
    queryFn: ({ pageParam, signal }) =>
      client.logs.operations.query({ ...filters, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/**
 * New operations as they are recorded (logs.onOperation). The link resumes from the last id after a drop, so
 * nothing recorded meanwhile is missed; `enabled` false closes the stream.
 */
export function useOperationsLive(onOperation: (op: OperationRecord) => void, enabled = true) {
  const trpc = useTRPC();
  // Ids already handed on, filled by the stream's handler only (one set for the hook's life, like a tracker).
  const [seen] = useState(() => new Set<number>());
  return useSubscription(
    trpc.logs.onOperation.subscriptionOptions(undefined, {
      enabled,
      onData: ({ data }) => {
        if (seen.has(data.id)) return;
        seen.add(data.id);
        onOperation(data);
      },
    }),
  );
}

/** Whether a live operation belongs in a list shown with `filters` (the same rules as the server's query). */
export function matchesFilters(op: OperationRecord, f: OperationFilters): boolean {
  if (f.action && op.action !== f.action) return false;
  if (f.node && op.node !== f.node) return false;
  if (f.status && op.status !== f.status) return false;
  const t = Date.parse(op.timestamp);
  if (f.from && t < Date.parse(f.from)) return false;
  if (f.to && t > Date.parse(f.to)) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    if (!op.action.toLowerCase().includes(needle) && !JSON.stringify(op.details).toLowerCase().includes(needle)) return false;
  }
  return true;
}

export type LogHit = RouterOutputs['logs']['search']['items'][number];
export interface LogSearchFilters {
  text?: string;
  level?: LogLevelName;
  sources?: string[];
}

export const LOG_PAGE_SIZE = 50;

/** Server and ZooKeeper log lines, newest first, with highlighted matches; paged by cursor ("Load more"). */
export function useLogSearch(filters: LogSearchFilters) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  return useInfiniteQuery({
    queryKey: [...trpc.logs.search.pathKey(), { input: filters, type: 'infinite' }] as const,
    queryFn: ({ pageParam, signal }) =>
      client.logs.search.query({ ...filters, limit: LOG_PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** Log lines as they are ingested (logs.onLine), filtered by the server; `enabled` false closes the stream. */
export function useLogTail(filters: LogSearchFilters, onLine: (entry: LogHit) => void, enabled: boolean) {
  const trpc = useTRPC();
  return useSubscription(
    trpc.logs.onLine.subscriptionOptions(filters, {
      enabled,
      onData: ({ data }) => onLine({ ...data, highlight: null }),
    }),
  );
}
