import type { ZkhaClient } from '@zkha/sdk/client';

export interface LogSearchQuery {
  text: string;
  limit?: number;
  node?: string;
}

/** One match, whatever the backend: the CLI prints these and nothing backend-specific. */
export interface LogSearchHit {
  id: string;
  timestamp: string;
  source: string;
  node: string | null;
  status: string | null;
  text: string;
  details: Record<string, unknown> | null;
}

export interface LogSearchResult {
  hits: LogSearchHit[];
  total: number | null;
  /** The server's own answer, printed as-is under --json. */
  raw: unknown;
}

export type LogSearchBackend = (client: ZkhaClient, query: LogSearchQuery) => Promise<LogSearchResult>;

/** Searches the operations log (action and details), which is what the server can search today. */
export const searchOperations: LogSearchBackend = async (client, query) => {
  const page = await client.logs.operations.query({
    text: query.text,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    ...(query.node !== undefined ? { node: query.node } : {}),
  });
  return {
    hits: page.items.map((op) => ({
      id: String(op.id),
      timestamp: op.timestamp,
      source: 'operations',
      node: op.node,
      status: op.status,
      text: op.action,
      details: op.details,
    })),
    total: page.total,
    raw: page,
  };
};

/** Full-text search over the server's and the ZooKeeper nodes' logs (`logs.search`, SQLite FTS5 by default). */
export const searchLogs: LogSearchBackend = async (client, query) => {
  const page = await client.logs.search.query({
    text: query.text,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    ...(query.node !== undefined ? { sources: [query.node] } : {}),
  });
  return {
    hits: page.items.map((e) => ({
      id: String(e.id),
      timestamp: e.ts,
      source: e.source,
      node: /^zk\d+$/.test(e.source) ? e.source : null,
      status: e.level,
      text: e.message,
      details: e.fields,
    })),
    total: page.total ?? null,
    raw: page,
  };
};

/** The backend `logs search` uses: the full-text log search (the operations audit has `logs tail` and the console). */
export const logSearch: LogSearchBackend = searchLogs;
