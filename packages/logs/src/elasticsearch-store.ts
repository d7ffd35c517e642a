/**
 * `LogStore` over an Elasticsearch cluster (7.x/8.x REST API, plain fetch, no client library), for
 * deployments that already run one (`ELASTICSEARCH_URL`). Entries go to one index, tail positions to
 * `<index>-offsets`.
 *
 * Ids: Elasticsearch has no sequence, and cursors and live tails need increasing numeric ids, so this
 * store assigns them itself, continuing from the index's highest `id`. That assumes one writer per
 * index (the control plane), which is how zkha deploys it.
 *
 * Unlike the SQLite store, entries and tail positions are not written atomically (`_bulk` is not a
 * transaction): after a failure between the two, the tailer re-reads a few lines (at least once).
 */
import { AppError } from '@zkha/core';
import {
  LOG_MAPPINGS,
  OFFSET_MAPPINGS,
  bulkLines,
  checkBulkResponse,
  docToEntry,
  type BulkResponse,
  type LogDoc,
  type OffsetDoc,
} from './elasticsearch-indexing.ts';
import { queryFor, searchBody, searchResult, totalOf, type SearchResponse } from './elasticsearch-query.ts';
import { normalizeFilter, normalizeNewEntry, normalizeSearchQuery } from './query.ts';
import {
  AppendListeners,
  type AppendListener,
  type AppendOptions,
  type LogEntry,
  type LogFilter,
  type LogSearchQuery,
  type LogSearchResult,
  type LogStats,
  type LogStore,
  type NewLogEntry,
  type RetentionPolicy,
  type TailOffset,
} from './types.ts';

export interface ElasticsearchLogStoreOptions {
  /** Base URL, e.g. http://elasticsearch:9200 (credentials in the URL are not used; pass them below). */
  url: string;
  /** Default 'zkha-logs'. */
  index?: string;
  /** Sent as `Authorization: ApiKey <apiKey>`. */
  apiKey?: string;
  /** Basic auth, when no apiKey. */
  username?: string;
  password?: string;
  /** Per request. Default 10000. */
  timeoutMs?: number;
  /** Clock for age-based retention. Default Date.now. */
  now?: () => number;
}

const DEFAULT_LIMIT_SINCE = 500;
/** Elasticsearch's default index.max_result_window: the most one search may return. */
const MAX_RESULT_WINDOW = 10_000;

export class ElasticsearchLogStore implements LogStore {
  readonly kind = 'elasticsearch' as const;
  readonly index: string;
  readonly offsetsIndex: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly listeners = new AppendListeners();
  private indexesReady: Promise<void> | null = null;
  /** Last id assigned; null until read from the index. */
  private lastId: number | null = null;
  /** Appends run one at a time so ids are handed out in commit order. */
  private appendChain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: ElasticsearchLogStoreOptions) {
    const url = new URL(options.url);
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/+$/, '');
    this.index = options.index ?? 'zkha-logs';
    // Index names must be lowercase and free of these characters; fail at start-up, not at first write.
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(this.index)) {
      throw new AppError('BAD_INPUT', `invalid Elasticsearch index name "${this.index}" (lowercase letters, digits, . _ -)`);
    }
    this.offsetsIndex = `${this.index}-offsets`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.headers = { accept: 'application/json' };
    if (options.apiKey) this.headers.authorization = `ApiKey ${options.apiKey}`;
    else if (options.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { ndjson?: boolean; okStatuses?: number[] } = {},
  ): Promise<{ status: number; body: T }> {
    if (this.closed) throw new AppError('STORAGE_ERROR', 'log store is closed');
    const headers: Record<string, string> = { ...this.headers };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = opts.ndjson ? (body as string) : JSON.stringify(body);
      headers['content-type'] = opts.ndjson ? 'application/x-ndjson' : 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new AppError(
        'STORAGE_ERROR',
        `Elasticsearch ${method} ${path} failed: ${(err as Error).message}`,
        { url: this.base },
        { cause: err },
      );
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { raw: text.slice(0, 500) };
    }
    if (!res.ok && !(opts.okStatuses ?? []).includes(res.status)) {
      // Documented error body: { "error": { "type": ..., "reason": ... }, "status": N }
      const error = (parsed as { error?: { type?: string; reason?: string } | string } | null)?.error;
      const detail = typeof error === 'string' ? error : error ? `${error.type ?? 'error'}: ${error.reason ?? ''}` : text.slice(0, 200);
      throw new AppError('STORAGE_ERROR', `Elasticsearch ${method} ${path} answered ${res.status}: ${detail}`, {
        status: res.status,
        type: typeof error === 'object' ? error?.type : undefined,
      });
    }
    return { status: res.status, body: parsed as T };
  }

  private static errorType(body: unknown): string | undefined {
    const error = (body as { error?: { type?: string } } | null)?.error;
    return typeof error === 'object' ? error?.type : undefined;
  }

  /** Creates both indexes once per process; an index that already exists is fine. */
  private ensureIndexes(): Promise<void> {
    this.indexesReady ??= (async () => {
      for (const [name, mappings] of [
        [this.index, LOG_MAPPINGS],
        [this.offsetsIndex, OFFSET_MAPPINGS],
      ] as const) {
        const res = await this.request<unknown>('PUT', `/${name}`, { mappings }, { okStatuses: [400] });
        if (res.status === 400 && ElasticsearchLogStore.errorType(res.body) !== 'resource_already_exists_exception') {
          throw new AppError('STORAGE_ERROR', `cannot create Elasticsearch index ${name}: ${JSON.stringify(res.body).slice(0, 300)}`);
        }
      }
    })().catch((err: unknown) => {
      // Let the next call try again (Elasticsearch may come up after us).
      this.indexesReady = null;
      throw err;
    });
    return this.indexesReady;
  }

  /** `_search` on an index that may not exist yet: a missing index reads as empty. */
  private async searchIndex<T>(index: string, body: unknown): Promise<SearchResponse<T>> {
    const res = await this.request<SearchResponse<T>>('POST', `/${index}/_search`, body, { okStatuses: [404] });
    if (res.status === 404) {
      if (ElasticsearchLogStore.errorType(res.body) === 'index_not_found_exception') return {};
      throw new AppError('STORAGE_ERROR', `Elasticsearch POST /${index}/_search answered 404`);
    }
    return res.body;
  }

  private async maxId(): Promise<number> {
    const res = await this.searchIndex<LogDoc>(this.index, { size: 0, aggs: { max_id: { max: { field: 'id' } } } });
    return res.aggregations?.max_id?.value ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // LogStore

  append(entries: readonly NewLogEntry[], options: AppendOptions = {}): Promise<LogEntry[]> {
    const run = this.appendChain.then(() => this.appendNow(entries, options));
    this.appendChain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(entries: readonly NewLogEntry[], options: AppendOptions): Promise<LogEntry[]> {
    const rows = entries.map(normalizeNewEntry);
    const offsets = options.offsets ?? [];
    const drops = options.dropOffsets ?? [];
    if (rows.length === 0 && offsets.length === 0 && drops.length === 0) return [];
    await this.ensureIndexes();
    this.lastId ??= await this.maxId();
    const { lines, stored, lastId } = bulkLines({
      index: this.index,
      offsetsIndex: this.offsetsIndex,
      lastId: this.lastId,
      rows,
      offsets,
      drops,
      at: new Date(this.now()).toISOString(),
    });
    // The ids are spent whatever happens next: a retry must not reuse an id a partial bulk may have stored.
    this.lastId = lastId;
    // wait_for: an appended entry is searchable when append resolves, as with SQLite.
    const res = await this.request<BulkResponse>('POST', '/_bulk?refresh=wait_for', `${lines.join('\n')}\n`, { ndjson: true });
    checkBulkResponse(res.body, lines.length);
    if (stored.length > 0) this.emit(stored);
    return stored;
  }

  private emit(entries: readonly LogEntry[]): void {
    this.listeners.emit(entries);
  }

  onAppend(listener: AppendListener): () => void {
    return this.listeners.add(listener);
  }

  async search(query: LogSearchQuery): Promise<LogSearchResult> {
    const q = normalizeSearchQuery(query);
    const res = await this.searchIndex<LogDoc>(this.index, searchBody(q));
    return searchResult(res, q);
  }

  async latestId(): Promise<number> {
    const stored = await this.maxId();
    this.lastId = Math.max(this.lastId ?? 0, stored);
    return this.lastId;
  }

  async since(afterId: number, filter: LogFilter = {}, limit = DEFAULT_LIMIT_SINCE): Promise<LogEntry[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULT_WINDOW) {
      throw new AppError('BAD_INPUT', `limit must be an integer in 1..${MAX_RESULT_WINDOW}, got ${limit}`);
    }
    const f = normalizeFilter(filter);
    const res = await this.searchIndex<LogDoc>(this.index, {
      size: limit,
      query: queryFor(f, [{ range: { id: { gt: Math.max(0, Math.trunc(afterId) || 0) } } }]),
      sort: [{ id: { order: 'asc' } }],
    });
    return (res.hits?.hits ?? []).flatMap((h) => (h._source ? [docToEntry(h._source)] : []));
  }

  async stats(): Promise<LogStats> {
    const res = await this.searchIndex<LogDoc>(this.index, {
      size: 0,
      track_total_hits: true,
      aggs: { oldest: { min: { field: 'ts' } }, newest: { max: { field: 'ts' } } },
    });
    const rows = totalOf(res.hits?.total);
    let bytes = 0;
    const statsRes = await this.request<{ _all?: { primaries?: { store?: { size_in_bytes?: number } } } }>(
      'GET',
      `/${this.index}/_stats/store`,
      undefined,
      { okStatuses: [404] },
    );
    if (statsRes.status === 200) bytes = statsRes.body._all?.primaries?.store?.size_in_bytes ?? 0;
    const iso = (v: number | null | undefined): string | null => (v === null || v === undefined ? null : new Date(v).toISOString());
    return { rows, bytes, oldest: iso(res.aggregations?.oldest?.value), newest: iso(res.aggregations?.newest?.value) };
  }

  private async deleteByQuery(query: unknown): Promise<number> {
    // conflicts=proceed: a concurrent write to a doc being deleted must not abort the whole pass.
    const res = await this.request<{ deleted?: number }>(
      'POST',
      `/${this.index}/_delete_by_query?conflicts=proceed&refresh=true`,
      { query },
      {
        okStatuses: [404],
      },
    );
    return res.status === 404 ? 0 : (res.body.deleted ?? 0);
  }

  /**
   * Row and byte limits delete by id (`id <= newest - keep`): ids are handed out contiguously and the
   * oldest go first, so this keeps about `keep` entries without paging past max_result_window.
   */
  async applyRetention(policy: RetentionPolicy): Promise<number> {
    for (const [name, v] of Object.entries(policy)) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
        throw new AppError('BAD_INPUT', `${name} must be a non-negative number, got ${String(v)}`);
      }
    }
    let removed = 0;
    if (policy.maxAgeMs !== undefined) {
      removed += await this.deleteByQuery({ range: { ts: { lt: new Date(this.now() - policy.maxAgeMs).toISOString() } } });
    }
    let keep: number | null = policy.maxRows ?? null;
    if (policy.maxBytes !== undefined) {
      const s = await this.stats();
      if (s.bytes > policy.maxBytes && s.rows > 0) {
        const byBytes = Math.floor((s.rows * policy.maxBytes) / s.bytes);
        keep = keep === null ? byBytes : Math.min(keep, byBytes);
      }
    }
    if (keep !== null) {
      const newest = await this.maxId();
      const cutoff = newest - Math.floor(keep);
      if (cutoff > 0) removed += await this.deleteByQuery({ range: { id: { lte: cutoff } } });
    }
    if (removed > 0) {
      // Deleted documents only free disk when their segments merge; ask for it without waiting.
      await this.request('POST', `/${this.index}/_forcemerge?only_expunge_deletes=true&wait_for_completion=false`, undefined, {
        okStatuses: [404],
      });
    }
    return removed;
  }

  async tailOffsets(): Promise<TailOffset[]> {
    const res = await this.searchIndex<OffsetDoc>(this.offsetsIndex, {
      size: MAX_RESULT_WINDOW,
      query: { match_all: {} },
      sort: [{ path: 'asc' }],
    });
    return (res.hits?.hits ?? []).flatMap((h) =>
      h._source ? [{ path: h._source.path, fileId: h._source.file_id, offset: h._source.offset }] : [],
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.appendChain;
  }
}
