/**
 * The logs as the API serves them: search, and a live tail that resumes where a client left off. The log store
 * (SQLite or Elasticsearch, @zkha/logs) stays behind this service, so the routers never reach it directly.
 */
import { AppError } from '@zkha/core';
import type { TLogSearchInput } from '@zkha/core/schemas';
import { compileFilter, type LogEntry, type LogFilter, type LogSearchResult, type LogStore } from '@zkha/logs';

import { PushQueue } from '../shared/push-queue.ts';

export class LogsService {
  constructor(private readonly logStore: LogStore | null) {}

  /** Whether this server keeps a log store at all. */
  get available(): boolean {
    return this.logStore !== null;
  }

  private store(): LogStore {
    if (!this.logStore) throw new AppError('NOT_SUPPORTED', 'no log store is configured on this server');
    return this.logStore;
  }

  /** Newest first; the first page also counts the matches. */
  search(input: TLogSearchInput): Promise<LogSearchResult> {
    const { direction: _direction, cursor, ...query } = input;
    return this.store().search({ ...query, ...(cursor ? { cursor } : {}), withTotal: !cursor });
  }

  /**
   * Entries matching `filter` as they are stored, until `signal` aborts; after `lastEventId` (a reconnecting
   * client's last id), first what it missed. Attached before the backfill so nothing falls in between.
   */
  async *follow(filter: LogFilter, lastEventId: string | null | undefined, signal: AbortSignal | undefined): AsyncGenerator<LogEntry> {
    const logs = this.store();
    const matches = compileFilter(filter);
    const queue = new PushQueue<LogEntry>();
    const off = logs.onAppend((entries) => queue.push(...entries));
    try {
      let lastId = lastEventId ? Number(lastEventId) : await logs.latestId();
      if (lastEventId) {
        for (const e of await logs.since(lastId, filter)) {
          lastId = e.id;
          yield e;
        }
      }
      for await (const e of queue.drain(signal)) {
        if (e.id <= lastId || !matches(e)) continue;
        lastId = e.id;
        yield e;
      }
    } finally {
      off();
    }
  }
}
