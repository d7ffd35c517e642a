import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter } from './query.ts';
import { entry, useTemp } from './test-helpers.ts';
import type { LogEntry, LogLevel, NewLogEntry } from './types.ts';

const temp = useTemp();

/** n entries one second apart from 2026-11-22T00:00:00Z, cycling sources and levels. */
function series(n: number, message: (i: number) => string = (i) => `line ${i}`): NewLogEntry[] {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const sources = ['backend', 'zk1', 'zk2', 'agent:zk1'];
  return Array.from({ length: n }, (_, i) => ({
    ts: new Date(Date.UTC(2026, 10, 22, 0, 0, i)).toISOString(),
    level: levels[i % levels.length] as LogLevel,
    source: sources[i % sources.length] as string,
    message: message(i),
    fields: { i },
  }));
}

describe('SqliteLogStore: append and search', () => {
  it('stores a batch in order and finds it by words, newest first, with HTML-escaped highlights', async () => {
    const store = temp.store();
    const stored = await store.append([
      entry('FOLLOWING - LEADER ELECTION TOOK - 25 MS', { source: 'zk1', ts: '2026-11-22T00:56:30.523Z' }),
      entry('<script>alert("election")</script> & more', { source: 'backend' }),
      entry('nothing to see', { source: 'zk2' }),
    ]);
    expect(stored.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(stored[0]).toMatchObject({ ts: '2026-11-22T00:56:30.523Z', level: 'info', source: 'zk1', fields: null });

    const res = await store.search({ text: 'election', limit: 10 });
    expect(res.items.map((i) => i.id)).toEqual([2, 1]);
    expect(res.items[0]?.highlight).toBe('&lt;script&gt;alert(&quot;<mark>election</mark>&quot;)&lt;/script&gt; &amp; more');
    expect(res.items[1]?.highlight).toBe('FOLLOWING - LEADER <mark>ELECTION</mark> TOOK - 25 MS');
    expect(res.nextCursor).toBeNull();

    // Phrases, prefixes, several terms (all required), case and accent folding.
    expect((await store.search({ text: '"leader election took"', limit: 10 })).items.map((i) => i.id)).toEqual([1]);
    expect((await store.search({ text: '"election leader"', limit: 10 })).items).toEqual([]);
    expect((await store.search({ text: 'elec*', limit: 10 })).items.map((i) => i.id)).toEqual([2, 1]);
    expect((await store.search({ text: 'élection 25', limit: 10 })).items.map((i) => i.id)).toEqual([1]);
    const phrase = await store.search({ text: '"leader election"', limit: 10 });
    // A phrase is marked as one span.
    expect(phrase.items[0]?.highlight).toBe('FOLLOWING - <mark>LEADER ELECTION</mark> TOOK - 25 MS');

    // No text: everything, newest first, no highlight.
    const all = await store.search({ limit: 10, withTotal: true });
    expect(all.items.map((i) => [i.id, i.highlight])).toEqual([
      [3, null],
      [2, null],
      [1, null],
    ]);
    expect(all.total).toBe(3);
  });

  it('searches structured fields too, and keeps them as JSON', async () => {
    const store = temp.store();
    await store.append([entry('request failed', { level: 'error', fields: { reqId: 'req-7', err: { message: 'ECONNRESET upstream' } } })]);
    const res = await store.search({ text: 'econnreset', limit: 5 });
    expect(res.items).toHaveLength(1);
    expect(res.items[0]?.fields).toEqual({ reqId: 'req-7', err: { message: 'ECONNRESET upstream' } });
    // The match is in the fields: the message is shown escaped, unmarked.
    expect(res.items[0]?.highlight).toBe('request failed');
  });

  it('snippets long messages around the match', async () => {
    const store = temp.store();
    const long = `${'filler '.repeat(600)}needle ${'tail '.repeat(600)}`;
    await store.append([entry(long)]);
    const hit = (await store.search({ text: 'needle', limit: 1 })).items[0];
    expect(hit?.message).toBe(long);
    expect(hit?.highlight).toContain('<mark>needle</mark>');
    expect(hit?.highlight?.length).toBeLessThan(600);
  });

  it('never lets message text forge a <mark>', async () => {
    const store = temp.store();
    await store.append([entry('a \u0002fake\u0003 mark and a real one')]);
    const hit = (await store.search({ text: 'real', limit: 1 })).items[0];
    expect(hit?.highlight).toBe('a \uFFFDfake\uFFFD mark and a <mark>real</mark> one');
  });

  it('hostile query text never throws and is searched as literal words', async () => {
    const store = temp.store();
    await store.append([entry('key a:b value'), entry('flag -x set'), entry('call NEAR(x, y) done'), entry('quote " and star * here')]);
    const hostile = [
      '"',
      '""',
      '"""',
      '*',
      '**',
      '*a',
      'a**',
      'NEAR(',
      'NEAR(a b',
      'NEAR(a b, 2)',
      '-x',
      '- x',
      'NOT x',
      'a:b',
      'message:key',
      ':',
      '(',
      ')',
      '((a',
      'a))',
      '(a OR b',
      'AND',
      'OR OR',
      'a + b',
      '^key',
      '{a b}:c',
      "'",
      '\\',
      '"unbalanced phrase',
      'key " value',
      '\u0000\u0001',
      '🙂',
      'x'.repeat(5000),
      Array.from({ length: 200 }, (_, i) => `(w${i}`).join(' '),
    ];
    for (const text of hostile) {
      const res = await store.search({ text, limit: 10 });
      expect(Array.isArray(res.items), text).toBe(true);
      await store.since(0, { text });
    }
    expect((await store.search({ text: 'a:b', limit: 10 })).items.map((i) => i.message)).toEqual(['key a:b value']);
    expect((await store.search({ text: '-x', limit: 10 })).items.map((i) => i.message)).toEqual(['call NEAR(x, y) done', 'flag -x set']);
    expect((await store.search({ text: 'NEAR(x', limit: 10 })).items.map((i) => i.message)).toEqual(['call NEAR(x, y) done']);
    // Nothing searchable in the text: no text condition at all (every entry).
    expect((await store.search({ text: '" * ( :', limit: 10 })).items).toHaveLength(4);
  });

  it('filters by minimum level, sources and time range, alone and with text', async () => {
    const store = temp.store();
    await store.append(series(40, (i) => (i % 5 === 0 ? `tick ${i} leader` : `tick ${i}`)));
    const ids = async (q: Parameters<typeof store.search>[0]): Promise<number[]> => (await store.search(q)).items.map((i) => i.id);

    const warnUp = await store.search({ level: 'warn', limit: 100 });
    expect(warnUp.items.every((i) => i.level === 'warn' || i.level === 'error')).toBe(true);
    expect(warnUp.items).toHaveLength(20);

    expect((await store.search({ sources: ['zk1'], limit: 100 })).items.every((i) => i.source === 'zk1')).toBe(true);
    const two = await store.search({ sources: ['zk1', 'agent:zk1'], limit: 100 });
    expect(new Set(two.items.map((i) => i.source))).toEqual(new Set(['zk1', 'agent:zk1']));
    expect(two.items).toHaveLength(20);
    expect(await ids({ sources: ['nope'], limit: 100 })).toEqual([]);

    // ts of entry i is 00:00:i; bounds are inclusive.
    expect(await ids({ from: '2026-11-22T00:00:10Z', to: '2026-11-22T00:00:12Z', limit: 100 })).toEqual([13, 12, 11]);
    expect(await ids({ text: 'leader', level: 'error', limit: 100 })).toEqual([36, 16]);
    expect(await ids({ text: 'leader', sources: ['backend'], from: '2026-11-22T00:00:20Z', limit: 100 })).toEqual([21]);
    expect((await store.search({ text: 'leader', level: 'warn', withTotal: true, limit: 1 })).total).toBe(4);
  });

  it('rejects bad queries with BAD_INPUT', async () => {
    const store = temp.store();
    const bad = expect.objectContaining({ code: 'BAD_INPUT' });
    await expect(store.search({ limit: 0 })).rejects.toThrowError(bad);
    await expect(store.search({ limit: 501 })).rejects.toThrowError(bad);
    await expect(store.search({ limit: 1.5 })).rejects.toThrowError(bad);
    await expect(store.search({ limit: 10, cursor: 'garbage' })).rejects.toThrowError(bad);
    await expect(store.search({ limit: 10, from: 'yesterday-ish' })).rejects.toThrowError(bad);
    await expect(store.search({ limit: 10, level: 'loud' as LogLevel })).rejects.toThrowError(bad);
    await expect(store.append([entry('x', { ts: 'not a date' })])).rejects.toThrowError(bad);
    await expect(store.append([entry('ok'), entry('x', { source: '' })])).rejects.toThrowError(bad);
    // A rejected batch writes nothing.
    expect((await store.stats()).rows).toBe(0);
  });
});

describe('SqliteLogStore: cursor paging', () => {
  it('pages newest first without gaps or repeats while new entries arrive', async () => {
    const store = temp.store();
    await store.append(series(25));
    const seen: number[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const page: Awaited<ReturnType<typeof store.search>> = await store.search({ limit: 10, cursor });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      // New lines between pages land above the first page, never inside the pages still to come.
      await store.append(series(3, (i) => `late ${round}-${i}`));
      round++;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  it('pages text searches the same way', async () => {
    const store = temp.store();
    await store.append(series(30, (i) => (i % 2 === 0 ? `even election ${i}` : `odd ${i}`)));
    const first = await store.search({ text: 'election', limit: 6 });
    await store.append(series(5, () => 'even election late'));
    const second = await store.search({ text: 'election', limit: 6, cursor: first.nextCursor });
    const third = await store.search({ text: 'election', limit: 6, cursor: second.nextCursor });
    const all = [...first.items, ...second.items, ...third.items].map((i) => i.id);
    expect(all).toEqual([29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1]);
    expect(third.nextCursor).toBeNull();
  });
});

describe('SqliteLogStore: live tail support', () => {
  it('onAppend hears committed batches; since() backfills after an id with the same filter', async () => {
    const store = temp.store();
    await store.append(series(8));
    const heard: LogEntry[][] = [];
    const off = store.onAppend((batch) => heard.push([...batch]));
    const broken = store.onAppend(() => {
      throw new Error('a buggy subscriber');
    });

    // The live tail's recipe: attach, then backfill from where the client was, then filter live batches.
    const lastSeen = 3;
    const filter = { level: 'warn' as const };
    const backfill = await store.since(lastSeen, filter);
    expect(backfill.map((e) => e.id)).toEqual([4, 7, 8]);
    expect(backfill.every((e) => e.id > lastSeen)).toBe(true);

    const appended = await store.append(series(4, (i) => `new ${i}`));
    expect(heard).toEqual([appended]);
    expect(heard[0]?.filter(compileFilter(filter)).map((e) => e.id)).toEqual([11, 12]);

    off();
    broken();
    await store.append(series(1));
    expect(heard).toHaveLength(1);

    expect(await store.latestId()).toBe(13);
    expect((await store.since(10, {}, 2)).map((e) => e.id)).toEqual([11, 12]);
    expect((await store.since(0, { text: 'new', sources: ['zk1'] })).map((e) => e.message)).toEqual(['new 1']);
  });

  it('compileFilter agrees with the full-text search', async () => {
    const store = temp.store();
    const words = ['leader', 'election', 'took', 'zxid', 'LOOKING', 'Notification', 'sid', 'café'];
    const rows = Array.from({ length: 120 }, (_, i) =>
      entry(`${words[i % 8]} ${words[(i * 3) % 8]}-${words[(i * 5) % 8]}:${i}`, {
        level: (['info', 'warn', 'error'] as const)[i % 3],
        source: `zk${(i % 3) + 1}`,
        fields: i % 7 === 0 ? { peer: words[(i + 1) % 8] } : null,
      }),
    );
    const stored = await store.append(rows);
    const queries = ['leader', 'took-zxid', '"election took"', 'loo*', 'cafe', 'sid:1*', 'notification leader', 'peer', 'zxid:11'];
    for (const text of queries) {
      for (const extra of [{}, { level: 'warn' as const }, { sources: ['zk2'] }]) {
        const filter = { text, ...extra };
        const fromStore = (await store.since(0, filter, 500)).map((e) => e.id);
        const inMemory = stored.filter(compileFilter(filter)).map((e) => e.id);
        expect(inMemory, JSON.stringify(filter)).toEqual(fromStore);
      }
    }
  });
});

describe('SqliteLogStore: retention and stats', () => {
  it('removes entries older than maxAgeMs', async () => {
    const now = Date.UTC(2026, 10, 22, 0, 1, 0);
    const store = temp.store(undefined, { now: () => now });
    await store.append(series(60)); // 00:00:00 .. 00:00:59
    expect(await store.applyRetention({ maxAgeMs: 30_000 })).toBe(30);
    const s = await store.stats();
    expect(s).toMatchObject({ rows: 30, oldest: '2026-11-22T00:00:30.000Z', newest: '2026-11-22T00:00:59.000Z' });
    expect(await store.applyRetention({ maxAgeMs: 30_000 })).toBe(0);
    // The index forgot them too.
    expect((await store.search({ text: 'line', limit: 500, withTotal: true })).total).toBe(30);
  });

  it('keeps the newest maxRows; ids are never reused even when everything goes', async () => {
    const store = temp.store();
    await store.append(series(12_000));
    expect(await store.applyRetention({ maxRows: 1000 })).toBe(11_000);
    const page = await store.search({ limit: 500 });
    expect(page.items[0]?.id).toBe(12_000);
    expect((await store.stats()).rows).toBe(1000);
    expect((await store.since(0, {}, 1))[0]?.id).toBe(11_001);

    expect(await store.applyRetention({ maxRows: 0 })).toBe(1000);
    expect(await store.latestId()).toBe(12_000);
    const [next] = await store.append([entry('after the purge')]);
    expect(next?.id).toBe(12_001);
    expect((await store.search({ text: 'purge', limit: 5 })).items.map((i) => i.id)).toEqual([12_001]);
  });

  it('brings the file under maxBytes by removing the oldest, and the space is really freed', async () => {
    const store = temp.store();
    // ~300 bytes of varied text per row, so the FTS index has real weight.
    await store.append(
      series(20_000, (i) => `request ${i} from client-${i % 97} took ${i % 13} ms path /api/files/${i.toString(36)} ${'x'.repeat(200)}`),
    );
    const before = await store.stats();
    expect(before.bytes).toBeGreaterThan(4_000_000);
    const limit = Math.floor(before.bytes / 2);
    const removed = await store.applyRetention({ maxBytes: limit });
    const after = await store.stats();
    expect(removed).toBeGreaterThan(8_000);
    expect(after.bytes).toBeLessThanOrEqual(limit);
    expect(after.rows).toBe(20_000 - removed);
    // Oldest first: what remains is the newest contiguous block.
    const oldest = (await store.since(0, {}, 1))[0];
    expect(oldest?.id).toBe(removed + 1);
    expect(after.newest).toBe(before.newest);
  });

  it('validates the policy', async () => {
    const store = temp.store();
    await expect(store.applyRetention({ maxRows: -1 })).rejects.toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(await store.applyRetention({})).toBe(0);
  });
});

describe('SqliteLogStore: the file', () => {
  it('persists entries and tail offsets (saved with the entries) across reopen', async () => {
    const file = path.join(temp.dir(), 'data', 'logs.db');
    const first = temp.store(file);
    await first.append([entry('before restart')], { offsets: [{ path: '/logs/zk1/zookeeper.log', fileId: '1:2:3:abc', offset: 120 }] });
    await first.append([], { offsets: [{ path: '/logs/zk2/zookeeper.log', fileId: '1:3:0:def', offset: 0 }] });
    await first.append([], {
      offsets: [{ path: '/logs/zk1/zookeeper.log', fileId: '1:2:3:abc', offset: 200 }],
      dropOffsets: ['/logs/zk2/zookeeper.log'],
    });
    await first.close();

    const second = temp.store(file);
    expect((await second.search({ text: 'restart', limit: 5 })).items.map((i) => i.message)).toEqual(['before restart']);
    expect(await second.tailOffsets()).toEqual([{ path: '/logs/zk1/zookeeper.log', fileId: '1:2:3:abc', offset: 200 }]);
    await expect(first.search({ limit: 1 })).rejects.toThrowError(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });

  it('works in memory for unit tests', async () => {
    const store = temp.store(':memory:');
    await store.append([entry('in memory')]);
    expect((await store.search({ text: 'memory', limit: 1 })).items).toHaveLength(1);
  });
});
