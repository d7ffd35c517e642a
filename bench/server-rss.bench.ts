/**
 * Resident memory of the real server as `npm start` runs it (the bundle apps/server/dist/main.mjs, built here
 * first, with its agents' bundles; embedded ensemble on free ports) holding
 * 100,000 file records seeded into its SQLite file before start. Four figures, so the steady state shows apart
 * from the one-off: (a) a first start, which publishes the 100,000 file znodes to ZooKeeper; (b) a restart after
 * a clean stop (SIGTERM), which resumes from the checkpoint the stop left and applies the change feed since;
 * (c) that restarted server after a burst of reads (paged files.list, diagnostics, the overview with its plan,
 * /metrics); (d) a restart after a crash (SIGKILL: no checkpoint), which reads the whole tree back, then the same
 * burst. RSS is the kernel's (VmRSS; VmHWM its peak);
 * the heap and external figures are V8's, read from the server's own /metrics.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { createDb, insertFiles } from '@zkha/db';
import { buildBundles, eventually, SERVER_BUNDLE, testServerEnv } from '@zkha/server/testing';

import { median, row } from './util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

const procMb = (pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

buildBundles();

const N = 100_000;
const dir = mkdtempSync(path.join(tmpdir(), 'zkha-rss-'));
const dbPath = path.join(dir, 'zkha.db');
{
  const { db, close } = createDb(dbPath);
  const t0 = Date.now();
  const nodes = ['zk1', 'zk2', 'zk3'];
  insertFiles(
    db,
    Array.from({ length: N }, (_, i) => {
      const node = nodes[i % 3]!;
      const at = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000).toISOString();
      return {
        uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        name: `demo-${i}.bin`,
        node,
        path: path.join(dir, 'uploads', node, `demo-${i}.bin`),
        sizeBytes: 4096,
        sha256: '0'.repeat(64),
        createdAt: at,
        updatedAt: at,
        history: [{ action: 'created', node, at }],
      };
    }),
  );
  close();
  console.log(`seeded ${N} file records in ${Date.now() - t0} ms`);
}

const serverEnv = await testServerEnv(dir);
const port = Number(serverEnv.PORT);
const url = `http://127.0.0.1:${port}`;
const env = { ...process.env, ...serverEnv, DATABASE_PATH: dbPath, AUTO_SCHEDULER_ENABLED: 'false', LOG_LEVEL: 'warn' };

type Server = ChildProcessByStdio<null, Readable, null>;

async function start(): Promise<{ child: Server; readyMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [SERVER_BUNDLE], {
    env,
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, readyMs: Date.now() - started };
}

async function stop(child: Server, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

interface Figures {
  rss: number;
  /** RSS less the pages mapped from files (the node binary's code, shared with every other node process). */
  anon: number;
  peak: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** RSS first (the kernel's, before this scrape allocates anything), then V8's figures from /metrics. */
async function measure(pid: number): Promise<Figures> {
  const rss = procMb(pid, 'VmRSS');
  const anon = procMb(pid, 'RssAnon');
  const peak = procMb(pid, 'VmHWM');
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024 / 1024;
  return {
    rss,
    anon,
    peak,
    heapUsed: gauge('zkha_nodejs_heap_size_used_bytes'),
    heapTotal: gauge('zkha_nodejs_heap_size_total_bytes'),
    external: gauge('zkha_nodejs_external_memory_bytes'),
  };
}

/** Paged files.list over the whole table (tRPC and REST), diagnostics, the overview (with the plan), /metrics. */
async function burst(): Promise<number[]> {
  const times: number[] = [];
  for (let offset = 0; offset < N; offset += 500) {
    const input = encodeURIComponent(JSON.stringify({ limit: 500, offset }));
    const r = await fetch(`${url}/trpc/files.list?input=${input}`);
    if (!r.ok) throw new Error(`files.list: HTTP ${r.status}`);
    await r.arrayBuffer();
  }
  for (let offset = 0; offset < 20_000; offset += 500) await (await fetch(`${url}/api/files?limit=500&offset=${offset}`)).arrayBuffer();
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const plan = (await (await fetch(`${url}/api/scheduler/diagnostics`)).json()) as { totalFiles: number };
    times.push(performance.now() - t0);
    if (plan.totalFiles !== N) throw new Error(`expected ${N} files, server sees ${plan.totalFiles}`);
    await (await fetch(`${url}/api/overview`)).arrayBuffer();
    await (await fetch(`${url}/trpc/scheduler.diagnostics`)).arrayBuffer();
    await (await fetch(`${url}/metrics`)).text();
  }
  return times;
}

const mb = (x: number) => `${x.toFixed(1)} MB`;
const lines: string[][] = [];
const report = (what: string, f: Figures, readyMs?: number) =>
  lines.push([
    what,
    readyMs === undefined ? '' : `${readyMs} ms`,
    mb(f.rss),
    mb(f.anon),
    mb(f.peak),
    mb(f.heapUsed),
    mb(f.heapTotal),
    mb(f.external),
  ]);

try {
  const first = await start();
  try {
    // The publish may still run when the server says ready: wait for its operation record (a restart cut short
    // of it would find part of the tree).
    const t0 = Date.now();
    while (!(await (await fetch(`${url}/api/operations?limit=100`)).text()).includes('zk_publish_files'))
      await new Promise((r) => setTimeout(r, 200));
    const publishedMs = first.readyMs + Date.now() - t0;
    report('(a) first start: publishes 100k file znodes', await measure(first.child.pid!), publishedMs);
  } finally {
    await stop(first.child);
  }
  const again = await start();
  let times: number[];
  try {
    report('(b) restart after a clean stop: resumes from its checkpoint', await measure(again.child.pid!), again.readyMs);
    times = await burst();
    report(
      '(c) (b) after reads: 200 pages of files.list, 40 of /api/files, 20× diagnostics, overview, /metrics',
      await measure(again.child.pid!),
    );
  } finally {
    await stop(again.child, 'SIGKILL');
  }
  const crashed = await start();
  try {
    // Ready comes before the leader's full read of the tree ends: wait for it (the tree is 'complete' after it).
    await eventually(
      async () =>
        ((await (await fetch(`${url}/trpc/control.status`)).json()) as { result: { data: { fileTree: string } } }).result.data.fileTree ===
        'complete',
      120_000,
      'the full read of the tree',
    );
    await burst();
    report(
      '(d) restart after a crash (SIGKILL, no checkpoint): reads the whole tree, then the same reads',
      await measure(crashed.child.pid!),
      crashed.readyMs,
    );
  } finally {
    await stop(crashed.child);
  }
  console.log(row(['figure', 'ready (a: published)', 'RSS', 'of it anonymous', 'peak RSS', 'heap used', 'heap total', 'external']));
  console.log(row(['---', '---', '---', '---', '---', '---', '---', '---']));
  for (const l of lines) console.log(row(l));
  console.log(`\nGET /api/scheduler/diagnostics over HTTP, median of 20: ${median(times).toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
