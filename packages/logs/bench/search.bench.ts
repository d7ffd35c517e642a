/**
 * Search figures of the embedded SQLite log store over 200,000 realistic rows (ZooKeeper, backend and
 * agent lines) in a real WAL file: ingest rate, file size, and query latency per query shape.
 * Measures only; the tests assert behaviour, never timing.
 *
 *   node --import tsx packages/logs/bench/search.bench.ts        (or: npm run bench -w @zkha/logs)
 *   ROWS=500000 node --import tsx packages/logs/bench/search.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteLogStore } from '../src/sqlite-store.ts';
import type { LogLevel, LogSearchQuery, NewLogEntry } from '../src/types.ts';

const ROWS = Number(process.env.ROWS ?? 200_000);
const BATCH = 1000;
const RUNS = 50;

/** Deterministic pseudo-random numbers, so every run measures the same data. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = lcg(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const ZK_MESSAGES = [
  (i: number) =>
    `Notification: my state:LOOKING; n.sid:${(i % 3) + 1}, n.state:LOOKING, n.leader:${(i % 3) + 1}, n.round:0x${(i % 16).toString(16)}, n.zxid:0x${i.toString(16)}`,
  (i: number) => `Accepted socket connection from /127.0.0.1:${30000 + (i % 30000)}`,
  (i: number) => `Session 0x${(i * 7919).toString(16)} closed because client disconnected`,
  (i: number) => `Committing global session 0x${(i * 104729).toString(16)}`,
  (i: number) => `Peer state changed: following - broadcast (round ${i % 50})`,
  (i: number) => `Processed session termination for sessionid: 0x${(i * 31).toString(16)}`,
  () =>
    'Cannot open channel to 3 at election address /127.0.0.1:3888\njava.net.ConnectException: Connection refused\n\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)',
];
const BACKEND_MESSAGES = [
  (i: number) => `request completed GET /api/files?page=${i % 40} 200 in ${i % 97} ms`,
  (i: number) => `scheduler round ${i}: below_threshold, nothing to move`,
  (i: number) => `moved file demo-${i}.bin from zk${(i % 3) + 1} to zk${((i + 1) % 3) + 1}`,
  (i: number) => `probe zk${(i % 3) + 1}: srvr answered in ${i % 11} ms`,
];

function row(i: number, ts: number): NewLogEntry {
  const kind = rand();
  // A selective marker: exactly every 10,000th row.
  const rare = i % 10_000 === 4321 ? ' quorumloss-drill' : '';
  const level: LogLevel = kind < 0.002 ? 'error' : kind < 0.02 ? 'warn' : kind < 0.2 ? 'debug' : 'info';
  if (kind < 0.6) {
    return {
      ts: new Date(ts).toISOString(),
      level,
      source: `zk${(i % 3) + 1}`,
      message: pick(ZK_MESSAGES)(i) + rare,
      fields: { myid: (i % 3) + 1, thread: 'QuorumPeer[myid=1]', logger: 'QuorumPeer', line: 917 },
    };
  }
  if (kind < 0.95) {
    return {
      ts: new Date(ts).toISOString(),
      level,
      source: 'backend',
      message: pick(BACKEND_MESSAGES)(i) + rare,
      fields: { reqId: `req-${i}`, pid: 4242, hostname: 'zkha' },
    };
  }
  return {
    ts: new Date(ts).toISOString(),
    level,
    source: `agent:zk${(i % 3) + 1}`,
    message: `zkha-agent: zk${(i % 3) + 1} heartbeat ${i}${rare}`,
    fields: null,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] as number;
}

async function timeRuns(fn: () => Promise<unknown>, runs = RUNS, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

const dir = mkdtempSync(path.join(tmpdir(), 'zkha-logs-bench-'));
try {
  const store = new SqliteLogStore({ path: path.join(dir, 'logs.db') });
  const start = Date.UTC(2026, 10, 1);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < ROWS; i += BATCH) {
    const batch: NewLogEntry[] = [];
    for (let j = i; j < Math.min(ROWS, i + BATCH); j++) batch.push(row(j, start + j * 50));
    store.appendSync(batch);
  }
  const ingestMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const stats = await store.stats();
  console.log(`SQLite FTS5 log store, ${ROWS.toLocaleString('en')} rows, batches of ${BATCH} (one transaction each)`);
  // CPU time next to wall time: on a shared machine the wall figure includes waiting for the CPU.
  console.log(
    `ingest: ${(ingestMs / 1000).toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU, ${Math.round(ROWS / (ingestMs / 1000)).toLocaleString('en')} rows/s (wall)`,
  );
  console.log(`size: ${(stats.bytes / 1024 / 1024).toFixed(1)} MiB (${Math.round(stats.bytes / ROWS)} bytes/row, FTS index included)\n`);

  const deep = await (async () => {
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) cursor = (await store.search({ text: 'session', limit: 50, cursor })).nextCursor;
    return cursor;
  })();
  const latest = await store.latestId();

  const cases: [string, LogSearchQuery | (() => Promise<unknown>)][] = [
    ['selective term (20 hits), limit 50', { text: 'quorumloss', limit: 50 }],
    ['selective phrase "quorumloss drill"', { text: '"quorumloss drill"', limit: 50 }],
    ['selective term + total', { text: 'quorumloss', limit: 50, withTotal: true }],
    ['selective term + level>=warn + source zk1', { text: 'quorumloss', level: 'warn', sources: ['zk1'], limit: 50 }],
    ['prefix quorumlo*', { text: 'quorumlo*', limit: 50 }],
    ['common term (~25% of rows), first page of 50', { text: 'session', limit: 50 }],
    ['common term, 11th page via cursor', { text: 'session', limit: 50, cursor: deep }],
    ['common term + level>=error', { text: 'session', level: 'error', limit: 50 }],
    ['common term + total', { text: 'session', limit: 50, withTotal: true }],
    ['two common terms AND', { text: 'session closed', limit: 50 }],
    ['no text, newest 100', { limit: 100 }],
    ['no text, level>=error, 100', { level: 'error', limit: 100 }],
    ['no text, source agent:zk2, 100', { sources: ['agent:zk2'], limit: 100 }],
    ['no text, last hour time range, 100', { from: new Date(start + ROWS * 50 - 3_600_000).toISOString(), limit: 100 }],
    ['hostile text NEAR( "a:b -x', { text: 'NEAR( "a:b -x', limit: 50 }],
    ['tail backfill since(latest-200)', () => store.since(latest - 200, {}, 500)],
  ];

  console.log(`query latency over ${RUNS} runs (after 3 warm-up runs)`);
  console.log(line(['query', 'hits', 'median ms', 'p95 ms', 'min ms']));
  console.log(line(['---', '---', '---', '---', '---']));
  for (const [name, q] of cases) {
    const run = typeof q === 'function' ? q : () => store.search(q);
    const result = await run();
    const hits = Array.isArray(result) ? result.length : (result as { items: unknown[] }).items.length;
    const t = await timeRuns(run);
    console.log(line([name, hits, median(t).toFixed(3), p95(t).toFixed(3), Math.min(...t).toFixed(3)]));
  }

  const r0 = performance.now();
  const removed = await store.applyRetention({ maxRows: Math.floor(ROWS / 2) });
  const retentionMs = performance.now() - r0;
  const after = await store.stats();
  console.log(
    `\nretention maxRows=${Math.floor(ROWS / 2).toLocaleString('en')}: removed ${removed.toLocaleString('en')} rows in ${(retentionMs / 1000).toFixed(2)} s ` +
      `(FTS optimize + incremental vacuum included); size ${(stats.bytes / 1024 / 1024).toFixed(1)} -> ${(after.bytes / 1024 / 1024).toFixed(1)} MiB`,
  );
  const t = await timeRuns(() => store.search({ text: 'quorumloss', limit: 50 }));
  console.log(`selective term after retention: median ${median(t).toFixed(3)} ms`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
