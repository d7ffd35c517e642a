import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCaller, createContextInner } from '@zkha/api';
import type { LogEntry } from '@zkha/logs';

import { createLogger } from './logger.ts';
import { bootTestServer, eventually, type TestServer } from './testing.ts';

/** The log pipeline on the whole server: ZooKeeper's own log files and the server's JSON log, tailed into FTS5. */
let t: TestServer;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await bootTestServer();
  caller = createCaller(createContextInner({ services: t.server.services }));
});
afterAll(async () => {
  await t?.close();
});

describe('logs.search', () => {
  it("finds the ensemble's own election lines, by node, with the match highlighted", async () => {
    const found = await eventually(
      async () => {
        const r = await caller.logs.search({ text: 'LEADER ELECTION TOOK', limit: 10 });
        return r.items.length >= 3 ? r : undefined;
      },
      20_000,
      'election lines from all three nodes',
    );
    expect(new Set(found.items.map((e) => e.source))).toEqual(new Set(['zk1', 'zk2', 'zk3']));
    expect(found.items[0]!.highlight).toContain('<mark>');
    const one = await caller.logs.search({ text: 'LEADER ELECTION TOOK', sources: ['zk2'], limit: 10 });
    expect(one.items.every((e) => e.source === 'zk2')).toBe(true);
  });

  it('hostile query text is searched, never an error', async () => {
    for (const text of ['"', 'NEAR(', '*', '-x', 'a:b', '((', "'; drop table logs; --"]) {
      const r = await caller.logs.search({ text, limit: 5 });
      expect(Array.isArray(r.items)).toBe(true);
    }
    const res = await fetch(`${t.url}/api/logs/search?q=${encodeURIComponent('"unbalanced (')}&level=warn`);
    expect(res.status).toBe(200);
    const bad = await fetch(`${t.url}/api/logs/search?level=loud`);
    expect(bad.status).toBe(400);
  });

  it("the server's JSON log lines are searchable next to ZooKeeper's, and tail live", async () => {
    // The server under test logs to its logs folder the way `npm start` does.
    const logger = await createLogger({ level: 'info', logsDir: `${t.dir}/logs`, stdout: false });
    const ac = new AbortController();
    const sub = await createCaller(createContextInner({ services: t.server.services }), { signal: ac.signal }).logs.onLine({
      sources: ['backend'],
    });
    const it = sub[Symbol.asyncIterator]();
    const next = it.next();
    logger.warn({ node: 'zk1' }, 'zkha pipeline probe 4711');
    const got = await next;
    const v = got.value as unknown;
    const entry = (Array.isArray(v) ? v[1] : (v as { data: LogEntry }).data) as LogEntry;
    expect(entry).toMatchObject({ source: 'backend', level: 'warn', message: 'zkha pipeline probe 4711' });
    ac.abort();
    const r = await caller.logs.search({ text: 'probe 4711', level: 'warn', limit: 5 });
    expect(r.items[0]).toMatchObject({ source: 'backend', fields: expect.objectContaining({ node: 'zk1' }) });
  });
});
