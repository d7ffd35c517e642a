/**
 * No Elasticsearch runs on this machine, so these tests check the adapter against Elasticsearch's
 * documented REST API: a local HTTP server on 127.0.0.1 records every request (method, path, headers,
 * body) and answers with response bodies shaped as the reference documents them (_bulk, _search with
 * hits/sort/highlight/aggregations, _delete_by_query, _stats, error objects). They prove the requests
 * we send and our reading of documented answers, not Elasticsearch's behaviour.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogStore } from './create-log-store.ts';
import { ElasticsearchLogStore } from './elasticsearch-store.ts';
import { encodeCursor } from './query.ts';
import { SqliteLogStore } from './sqlite-store.ts';
import { entry, useTemp } from './test-helpers.ts';
import type { LogEntry } from './types.ts';

const temp = useTemp();
const DOC_ONLY = "against Elasticsearch's documented API shapes, no real Elasticsearch here";

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Reply = { status?: number; body: unknown };

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A recording HTTP server; `reply` answers each request (documented shapes only). */
async function fakeElasticsearch(reply: (req: Recorded) => Reply): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      const { status = 200, body } = reply(rec);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const SHARDS = { total: 1, successful: 1, skipped: 0, failed: 0 };

function errorBody(status: number, type: string, reason: string): Reply {
  return { status, body: { error: { root_cause: [{ type, reason }], type, reason }, status } };
}

function searchBody(hits: unknown[], total = hits.length, aggregations?: unknown): Reply {
  return {
    body: {
      took: 3,
      timed_out: false,
      _shards: SHARDS,
      hits: { total: { value: total, relation: 'eq' }, max_score: null, hits },
      ...(aggregations ? { aggregations } : {}),
    },
  };
}

function hit(e: LogEntry, highlight?: string[]): unknown {
  const levelNum = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }[e.level];
  return {
    _index: 'zkha-logs',
    _id: String(e.id),
    _score: null,
    _source: { ...e, level_num: levelNum },
    sort: [e.id],
    ...(highlight ? { highlight: { message: highlight } } : {}),
  };
}

/** Answers index creation, the max-id aggregation (highest id `maxId`) and _bulk (every item created). */
function basicReplies(maxId: number | null, extra: (req: Recorded) => Reply | undefined = () => undefined): (req: Recorded) => Reply {
  return (req) => {
    const custom = extra(req);
    if (custom) return custom;
    if (req.method === 'PUT') return { body: { acknowledged: true, shards_acknowledged: true, index: req.url.slice(1) } };
    if (req.url.endsWith('/_search') && req.body.includes('max_id')) return searchBody([], 0, { max_id: { value: maxId } });
    if (req.url.startsWith('/_bulk')) {
      const lines = req.body.trim().split('\n');
      const items = lines
        .map((l) => JSON.parse(l) as Record<string, { _index: string; _id: string }>)
        .filter((l) => l.index || l.delete)
        .map((l) => {
          const [action, meta] = Object.entries(l)[0] as [string, { _index: string; _id: string }];
          return {
            [action]: {
              _index: meta._index,
              _id: meta._id,
              _version: 1,
              result: action === 'delete' ? 'deleted' : 'created',
              _shards: SHARDS,
              status: action === 'delete' ? 200 : 201,
            },
          };
        });
      return { body: { took: 5, errors: false, items } };
    }
    return errorBody(500, 'unexpected_request', `${req.method} ${req.url}`);
  };
}

describe(`ElasticsearchLogStore (${DOC_ONLY})`, () => {
  it(`append: creates the indexes once, continues ids after the highest stored id, sends _bulk NDJSON with tail offsets (${DOC_ONLY})`, async () => {
    const es = await fakeElasticsearch(basicReplies(41));
    const store = new ElasticsearchLogStore({ url: es.url, apiKey: 'secret-key' });
    const heard: LogEntry[][] = [];
    store.onAppend((b) => heard.push([...b]));

    const stored = await store.append(
      [
        entry('LEADER ELECTION TOOK - 25 MS', { source: 'zk1', ts: '2026-11-22T00:56:30.523Z' }),
        entry('boom', { level: 'error', fields: { err: { message: 'x' } } }),
      ],
      { offsets: [{ path: '/logs/zk1/zookeeper.log', fileId: '1:2:3:ab', offset: 120 }], dropOffsets: ['/logs/old.log'] },
    );
    expect(stored.map((e) => e.id)).toEqual([42, 43]);
    expect(heard).toEqual([stored]);
    const again = await store.append([entry('third')]);
    expect(again[0]?.id).toBe(44);

    const [putLogs, putOffsets, maxQuery, bulk, bulk2] = es.requests;
    expect(es.requests).toHaveLength(5);
    expect([putLogs?.method, putLogs?.url, putOffsets?.url]).toEqual(['PUT', '/zkha-logs', '/zkha-logs-offsets']);
    const mappings = JSON.parse(putLogs?.body ?? '{}').mappings;
    expect(mappings.properties).toMatchObject({
      id: { type: 'long' },
      ts: { type: 'date' },
      source: { type: 'keyword' },
      message: { type: 'text' },
    });
    expect(JSON.parse(maxQuery?.body ?? '{}')).toEqual({ size: 0, aggs: { max_id: { max: { field: 'id' } } } });
    expect(putLogs?.headers.authorization).toBe('ApiKey secret-key');

    expect(bulk?.url).toBe('/_bulk?refresh=wait_for');
    expect(bulk?.headers['content-type']).toBe('application/x-ndjson');
    expect(bulk?.body.endsWith('\n')).toBe(true);
    const lines = (bulk?.body ?? '')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { index: { _index: 'zkha-logs', _id: '42' } },
      {
        id: 42,
        ts: '2026-11-22T00:56:30.523Z',
        level: 'info',
        level_num: 30,
        source: 'zk1',
        message: 'LEADER ELECTION TOOK - 25 MS',
        fields: null,
      },
      { index: { _index: 'zkha-logs', _id: '43' } },
      expect.objectContaining({
        id: 43,
        level: 'error',
        level_num: 50,
        fields: { err: { message: 'x' } },
        fields_text: '{"err":{"message":"x"}}',
      }),
      { index: { _index: 'zkha-logs-offsets', _id: expect.stringMatching(/^[0-9a-f]{64}$/) } },
      { path: '/logs/zk1/zookeeper.log', file_id: '1:2:3:ab', offset: 120, updated_at: expect.any(String) },
      { delete: { _index: 'zkha-logs-offsets', _id: expect.stringMatching(/^[0-9a-f]{64}$/) } },
    ]);
    expect(bulk2?.body.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it(`append: an existing index is fine; item errors and HTTP failures reject with STORAGE_ERROR (${DOC_ONLY})`, async () => {
    let failBulk = true;
    const es = await fakeElasticsearch(
      basicReplies(null, (req) => {
        if (req.method === 'PUT')
          return errorBody(400, 'resource_already_exists_exception', `index [${req.url.slice(1)}/uuid] already exists`);
        if (req.url.startsWith('/_bulk') && failBulk) {
          return {
            body: {
              took: 2,
              errors: true,
              items: [
                {
                  index: {
                    _index: 'zkha-logs',
                    _id: '1',
                    status: 400,
                    error: { type: 'document_parsing_exception', reason: '[1:15] failed to parse field [ts] of type [date]' },
                  },
                },
              ],
            },
          };
        }
        return undefined;
      }),
    );
    const store = new ElasticsearchLogStore({ url: es.url });
    const heard: unknown[] = [];
    store.onAppend((b) => heard.push(b));
    await expect(store.append([entry('x')])).rejects.toThrowError(
      expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringContaining('document_parsing_exception') }),
    );
    expect(heard).toEqual([]);
    failBulk = false;
    // Ids of a failed bulk are not reused (part of it may have been stored).
    expect((await store.append([entry('y')]))[0]?.id).toBe(2);

    const down = new ElasticsearchLogStore({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await expect(down.append([entry('x')])).rejects.toThrowError(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });

  it(`search: safe multi_match terms, filters, search_after paging and html-encoded highlights (${DOC_ONLY})`, async () => {
    const e1: LogEntry = {
      id: 9,
      ts: '2026-11-22T00:00:09.000Z',
      level: 'warn',
      source: 'zk1',
      message: 'a <b> LEADER election',
      fields: null,
    };
    const e2: LogEntry = {
      id: 7,
      ts: '2026-11-22T00:00:07.000Z',
      level: 'error',
      source: 'zk2',
      message: 'match in fields <only>',
      fields: { k: 'election' },
    };
    const es = await fakeElasticsearch((req) =>
      req.url === '/zkha-logs/_search'
        ? searchBody([hit(e1, ['a &lt;b&gt; <mark>LEADER</mark> <mark>election</mark>']), hit(e2)], 57)
        : errorBody(500, 'x', 'x'),
    );
    const store = new ElasticsearchLogStore({ url: `${es.url}/` });
    const res = await store.search({
      text: 'leader "election" -x a:b NEAR( elec* ((',
      level: 'warn',
      sources: ['zk1', 'zk2'],
      from: '2026-11-22T00:00:00Z',
      to: '2026-11-22T01:00:00Z',
      limit: 2,
      cursor: encodeCursor(100),
      withTotal: true,
    });
    const body = JSON.parse(es.requests[0]?.body ?? '{}');
    expect(es.requests[0]?.method).toBe('POST');
    const mm = (query: string, type = 'phrase') => ({ multi_match: { query, type, fields: ['message', 'fields_text'] } });
    expect(body).toEqual({
      size: 2,
      query: {
        bool: {
          must: [mm('leader'), mm('election'), mm('-x'), mm('a:b'), mm('NEAR('), mm('elec', 'phrase_prefix')],
          filter: [
            { range: { level_num: { gte: 40 } } },
            { terms: { source: ['zk1', 'zk2'] } },
            { range: { ts: { gte: '2026-11-22T00:00:00.000Z', lte: '2026-11-22T01:00:00.000Z' } } },
          ],
        },
      },
      sort: [{ id: { order: 'desc' } }],
      track_total_hits: true,
      search_after: [100],
      highlight: { encoder: 'html', pre_tags: ['<mark>'], post_tags: ['</mark>'], fields: { message: { number_of_fragments: 0 } } },
    });
    expect(res.total).toBe(57);
    expect(res.items.map((i) => [i.id, i.level, i.highlight])).toEqual([
      [9, 'warn', 'a &lt;b&gt; <mark>LEADER</mark> <mark>election</mark>'],
      // No highlight for the message (the match was in the fields): the message, escaped.
      [7, 'error', 'match in fields &lt;only&gt;'],
    ]);
    expect(res.items[1]?.fields).toEqual({ k: 'election' });
    expect(res.nextCursor).toBe(encodeCursor(7));

    // No text: no must clauses, no highlight; BAD_INPUT before any request.
    await store.search({ limit: 10 });
    const plain = JSON.parse(es.requests[1]?.body ?? '{}');
    expect(plain.query).toEqual({ bool: { must: [], filter: [] } });
    expect(plain.highlight).toBeUndefined();
    await expect(store.search({ limit: 0 })).rejects.toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(es.requests).toHaveLength(2);
  });

  it(`search, since, stats and offsets on a missing index read as empty (${DOC_ONLY})`, async () => {
    const es = await fakeElasticsearch((req) => errorBody(404, 'index_not_found_exception', `no such index [${req.url.split('/')[1]}]`));
    const store = new ElasticsearchLogStore({ url: es.url, index: 'logs-test' });
    expect(await store.search({ limit: 5 })).toEqual({ items: [], nextCursor: null });
    expect(await store.since(0)).toEqual([]);
    expect(await store.latestId()).toBe(0);
    expect(await store.tailOffsets()).toEqual([]);
    expect(await store.stats()).toEqual({ rows: 0, bytes: 0, oldest: null, newest: null });
    expect(es.requests.map((r) => r.url)).toContain('/logs-test-offsets/_search');
  });

  it(`since, latestId, stats and tail offsets read the documented answers (${DOC_ONLY})`, async () => {
    const e: LogEntry = { id: 12, ts: '2026-11-22T00:00:12.000Z', level: 'info', source: 'backend', message: 'm', fields: null };
    const es = await fakeElasticsearch((req) => {
      const body = req.body ? JSON.parse(req.body) : {};
      if (req.url === '/zkha-logs/_search' && body.aggs?.max_id) return searchBody([], 0, { max_id: { value: 12 } });
      if (req.url === '/zkha-logs/_search' && body.aggs?.oldest) {
        return searchBody([], 1234, {
          oldest: { value: Date.parse('2026-11-01T00:00:00Z'), value_as_string: '2026-11-01T00:00:00.000Z' },
          newest: { value: Date.parse('2026-11-22T00:00:12Z'), value_as_string: '2026-11-22T00:00:12.000Z' },
        });
      }
      if (req.url === '/zkha-logs/_search') return searchBody([hit(e)]);
      if (req.url === '/zkha-logs/_stats/store')
        return {
          body: {
            _shards: SHARDS,
            _all: { primaries: { store: { size_in_bytes: 98765, reserved_in_bytes: 0 } }, total: { store: { size_in_bytes: 197530 } } },
          },
        };
      if (req.url === '/zkha-logs-offsets/_search') {
        return searchBody([
          {
            _index: 'zkha-logs-offsets',
            _id: 'h',
            _score: 1,
            _source: { path: '/l/a.log', file_id: '1:2:0:x', offset: 77, updated_at: '2026-11-22T00:00:00Z' },
          },
        ]);
      }
      return errorBody(500, 'x', req.url);
    });
    const store = new ElasticsearchLogStore({ url: es.url });
    expect(await store.since(10, { sources: ['backend'] }, 50)).toEqual([e]);
    expect(JSON.parse(es.requests[0]?.body ?? '{}')).toEqual({
      size: 50,
      query: { bool: { must: [], filter: [{ terms: { source: ['backend'] } }, { range: { id: { gt: 10 } } }] } },
      sort: [{ id: { order: 'asc' } }],
    });
    expect(await store.latestId()).toBe(12);
    expect(await store.stats()).toEqual({
      rows: 1234,
      bytes: 98765,
      oldest: '2026-11-01T00:00:00.000Z',
      newest: '2026-11-22T00:00:12.000Z',
    });
    expect(await store.tailOffsets()).toEqual([{ path: '/l/a.log', fileId: '1:2:0:x', offset: 77 }]);
  });

  it(`retention: _delete_by_query on ts and on id, then an asynchronous _forcemerge (${DOC_ONLY})`, async () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    const deletes: unknown[] = [];
    const es = await fakeElasticsearch((req) => {
      const body = req.body ? JSON.parse(req.body) : {};
      if (req.url.startsWith('/zkha-logs/_delete_by_query')) {
        deletes.push(body);
        return {
          body: {
            took: 147,
            timed_out: false,
            total: 10,
            deleted: 10,
            batches: 1,
            version_conflicts: 0,
            noops: 0,
            retries: { bulk: 0, search: 0 },
            failures: [],
          },
        };
      }
      if (req.url === '/zkha-logs/_search' && body.aggs?.max_id) return searchBody([], 0, { max_id: { value: 5000 } });
      if (req.url === '/zkha-logs/_search') return searchBody([], 4000, { oldest: { value: null }, newest: { value: null } });
      if (req.url === '/zkha-logs/_stats/store') return { body: { _all: { primaries: { store: { size_in_bytes: 4_000_000 } } } } };
      if (req.url.startsWith('/zkha-logs/_forcemerge')) return { body: { task: 'oTUltX4IQMOUUVeiohTt8A:12345' } };
      return errorBody(500, 'x', req.url);
    });
    const store = new ElasticsearchLogStore({ url: es.url, now: () => now });
    expect(await store.applyRetention({ maxAgeMs: 3_600_000, maxRows: 3000, maxBytes: 1_000_000 })).toBe(20);
    expect(deletes).toEqual([
      { query: { range: { ts: { lt: '2026-11-22T11:00:00.000Z' } } } },
      // 4000 rows in 4 MB, 1 MB allowed: keep 1000 (fewer than maxRows), so ids up to 5000 - 1000.
      { query: { range: { id: { lte: 4000 } } } },
    ]);
    const urls = es.requests.map((r) => `${r.method} ${r.url}`);
    expect(urls).toContain('POST /zkha-logs/_delete_by_query?conflicts=proceed&refresh=true');
    expect(urls[urls.length - 1]).toBe('POST /zkha-logs/_forcemerge?only_expunge_deletes=true&wait_for_completion=false');
    await expect(store.applyRetention({ maxRows: Number.NaN })).rejects.toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('createLogStore', () => {
  it('picks Elasticsearch when ELASTICSEARCH_URL is set, else the embedded SQLite file', async () => {
    const es = createLogStore({ elasticsearchUrl: 'http://127.0.0.1:9200', elasticsearchIndex: 'zkha-test' });
    expect(es).toBeInstanceOf(ElasticsearchLogStore);
    expect((es as ElasticsearchLogStore).index).toBe('zkha-test');
    const sqlite = createLogStore({ sqlitePath: path.join(temp.dir(), 'data', 'logs.db') });
    expect(sqlite).toBeInstanceOf(SqliteLogStore);
    await sqlite.close();
    await es.close();
    expect(() => new ElasticsearchLogStore({ url: 'http://x', index: 'Bad Name' })).toThrowError(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });
});
