/**
 * `npm run soak`: the real server (embedded ensemble on free loopback ports) under the demo workload and the
 * automatic scheduler for SOAK_SECONDS (default 600), with SOAK_CLIENTS (default 50) live subscription clients
 * and a steady trickle of API reads. Prints RSS at start, after warm-up and at the end, the server's event-loop
 * lag p99 (prom-client's per-scrape figure), events received, and every failed request. Bounded in time and
 * count; kept out of `npm test` on purpose (it measures, it does not assert).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { testServerEnv } from '@zkha/server/testing';
import { createZkhaClient } from '@zkha/sdk';

import { median, row } from './util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 50);
const WARMUP_SECONDS = Math.min(60, Math.round(SECONDS / 5));

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(path.join(tmpdir(), 'zkha-soak-'));
const serverEnv = await testServerEnv(dir);
const env = {
  ...process.env,
  ...serverEnv,
  LOG_LEVEL: 'warn',
  DEMO_WORKLOAD_ENABLED: 'true',
  DEMO_WORKLOAD_INTERVAL: '2',
  DEMO_WORKLOAD_MAX_FILES: '400',
  AUTO_SCHEDULER_ENABLED: 'true',
  AUTO_SCHEDULER_INTERVAL: '5',
  SCHEDULER_MODE: 'whole_plan',
};
const url = `http://127.0.0.1:${serverEnv.PORT}`;
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/server/src/main.ts')], {
  env,
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});

const failures: string[] = [];
let requests = 0;
let events = 0;
const lagP99: number[] = [];

async function scrapeLag(): Promise<void> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^zkha_nodejs_eventloop_lag_p99_seconds\s+([0-9.e+-]+)/m.exec(text);
  if (m) lagP99.push(Number(m[1]) * 1000);
}

try {
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const pid = child.pid!;
  const rssStart = rssMb(pid);
  console.log(`server ready; soak for ${SECONDS} s with ${CLIENTS} subscription clients (warm-up ${WARMUP_SECONDS} s)`);

  // The live clients: each holds one subscription, as a console tab holds a few.
  const subs: { unsubscribe(): void }[] = [];
  const opts = {
    onData: () => {
      events++;
    },
    onError: (err: unknown) => {
      failures.push(`subscription: ${err instanceof Error ? err.message : String(err)}`);
    },
  };
  for (let i = 0; i < CLIENTS; i++) {
    const c = createZkhaClient({ url });
    switch (i % 5) {
      case 0:
        subs.push(c.nodes.onStatus.subscribe(undefined, opts));
        break;
      case 1:
        subs.push(c.scheduler.onPlan.subscribe(undefined, opts));
        break;
      case 2:
        subs.push(c.migrations.onProgress.subscribe(undefined, opts));
        break;
      case 3:
        subs.push(c.logs.onOperation.subscribe(undefined, opts));
        break;
      default:
        subs.push(c.nodes.onLifecycle.subscribe(undefined, opts));
    }
  }

  // A trickle of reads (the console's queries) and a metrics scrape every 5 s, like Prometheus.
  const reader = createZkhaClient({ url });
  const latencies: number[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  let rssWarm: number | null = null;
  let tick = 0;
  while (Date.now() < deadline) {
    tick++;
    const t0 = performance.now();
    try {
      await Promise.all([
        reader.scheduler.diagnostics.query(),
        reader.files.list.query({ limit: 50 }),
        reader.nodes.summary.query(),
        reader.migrations.progress.query(),
      ]);
      requests += 4;
      latencies.push(performance.now() - t0);
      if (tick % 5 === 0) {
        await scrapeLag();
        requests++;
      }
    } catch (err) {
      failures.push(`request: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (rssWarm === null && Date.now() >= deadline - (SECONDS - WARMUP_SECONDS) * 1000) rssWarm = rssMb(pid);
    await sleep(1000);
  }
  const rssEnd = rssMb(pid);
  for (const s of subs) s.unsubscribe();
  const files = await reader.files.list.query({ limit: 1 });
  const warm = rssWarm ?? rssStart;
  const sortedLag = [...lagP99].sort((a, b) => a - b);
  console.log(row(['figure', 'value']));
  console.log(row(['---', '---']));
  console.log(row(['duration', `${SECONDS} s`]));
  console.log(row(['subscription clients', CLIENTS]));
  console.log(row(['RSS at start', `${rssStart.toFixed(1)} MB`]));
  console.log(row([`RSS after warm-up (${WARMUP_SECONDS} s)`, `${warm.toFixed(1)} MB`]));
  console.log(row(['RSS at end', `${rssEnd.toFixed(1)} MB`]));
  console.log(row(['RSS growth after warm-up', `${(((rssEnd - warm) / warm) * 100).toFixed(1)} %`]));
  console.log(row(['event-loop lag p99, median of scrapes', `${median(lagP99).toFixed(1)} ms`]));
  console.log(row(['event-loop lag p99, worst scrape', `${(sortedLag.at(-1) ?? 0).toFixed(1)} ms`]));
  console.log(row(['API read round (4 queries), median', `${median(latencies).toFixed(1)} ms`]));
  console.log(row(['requests', requests]));
  console.log(row(['subscription events received', events]));
  console.log(row(['files at end', files.total]));
  console.log(row(['failed requests', failures.length]));
  for (const f of failures.slice(0, 20)) console.log(`  failure: ${f}`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failures.length > 0 ? 1 : 0);
