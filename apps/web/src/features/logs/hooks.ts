import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useMemo, useState } from 'react';

import type { TOperationsListInput } from '@zkha/core/schemas';

import { useTRPC, useTRPCClient, type RouterOutputs } from '../../lib/trpc.ts';
import { matchesLogFilters, type LogLevelName } from './highlight.ts';

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

/** What the live tail brought that the loaded pages do not hold yet goes on top (marked `fresh`); all newest first. */
function useMergedRows<T extends { id: number }>(data: { pages: { items: T[] }[] } | undefined, live: T[]) {
  return useMemo(() => {
    const fromPages = data?.pages.flatMap((p) => p.items) ?? [];
    const known = new Set(fromPages.map((o) => o.id));
    const fresh = live.filter((o) => !known.has(o.id));
    return { all: [...fresh, ...fromPages].sort((a, b) => b.id - a.id), fresh: new Set(fresh.map((o) => o.id)) };
  }, [data, live]);
}

/** The operations audit's state: filters, the paged operations, and the live tail merged on top. */
export function useOperationsAudit() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [filters, setFilters] = useState<OperationFilters>({});
  const [tail, setTail] = useState(false);
  const [live, setLive] = useState<OperationRecord[]>([]);
  const ops = useOperations(filters);

  const onFilters = useCallback((f: OperationFilters) => {
    setFilters((prev) => (JSON.stringify(prev) === JSON.stringify(f) ? prev : f));
    setLive([]);
  }, []);

  const tailSub = useOperationsLive((op) => {
    if (matchesFilters(op, filters)) setLive((prev) => [op, ...prev].slice(0, 500));
  }, tail);

  const rows = useMergedRows(ops.data, live);
  const switchTail = (on: boolean) => {
    setTail(on);
    // Catch up on what happened while the tail was off, then follow the stream.
    if (on) void qc.invalidateQueries({ queryKey: trpc.logs.operations.pathKey() });
  };
  return {
    ops,
    rows,
    total: (ops.data?.pages[0]?.total ?? 0) + rows.fresh.size,
    filtered: Object.keys(filters).length > 0,
    onFilters,
    tail,
    tailStatus: tailSub.status,
    switchTail,
  };
}

/** The log search's state: filters, the paged hits, and the live tail of matching lines merged on top. */
export function useLogSearchPanel() {
  const [filters, setFilters] = useState<LogSearchFilters>({});
  const [tail, setTail] = useState(false);
  const [live, setLive] = useState<LogHit[]>([]);
  const search = useLogSearch(filters);

  const onFilters = useCallback((f: LogSearchFilters) => {
    setFilters((prev) => (JSON.stringify(prev) === JSON.stringify(f) ? prev : f));
    setLive([]);
  }, []);

  const tailSub = useLogTail(
    filters,
    (entry) => {
      if (matchesLogFilters(entry, filters)) setLive((prev) => [entry, ...prev].slice(0, 500));
    },
    tail,
  );

  const rows = useMergedRows(search.data, live);
  return {
    search,
    rows,
    total: search.data?.pages[0]?.total,
    filtered: Object.keys(filters).length > 0,
    onFilters,
    tail,
    tailStatus: tailSub.status,
    setTail,
  };
}
