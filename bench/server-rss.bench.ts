/**
 * Resident memory of the real server (`apps/server/src/main.ts`, embedded ensemble on free ports) holding
 * 100,000 file records: seeded into its SQLite file before start, then served through diagnostics and /metrics.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDb, insertFiles } from '@zkha/db';
import { testServerEnv } from '@zkha/server/testing';

import { median, row } from './util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

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
      return { uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `demo-${i}.bin`, node, path: path.join(dir, 'uploads', node, `demo-${i}.bin`), sizeBytes: 4096, sha256: '0'.repeat(64), createdAt: at, updatedAt: at, history: [{ action: 'created', node, at }] };
    }),
  );
  close();
  console.log(`seeded ${N} file records in ${Date.now() - t0} ms`);
}

const serverEnv = await testServerEnv(dir);
const port = Number(serverEnv.PORT);
const env = { ...process.env, ...serverEnv, DATABASE_PATH: dbPath, AUTO_SCHEDULER_ENABLED: 'false', LOG_LEVEL: 'warn' };
const started = Date.now();
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/server/src/main.ts')], { env, cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('ready at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const ready = Date.now() - started;
  const url = `http://127.0.0.1:${port}`;
  const idle = rssMb(child.pid!);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const plan = (await (await fetch(`${url}/api/scheduler/diagnostics`)).json()) as { totalFiles: number };
    times.push(performance.now() - t0);
    if (plan.totalFiles !== N) throw new Error(`expected ${N} files, server sees ${plan.totalFiles}`);
    await (await fetch(`${url}/metrics`)).text();
  }
  const after = rssMb(child.pid!);
  console.log(row(['figure', 'value']));
  console.log(row(['---', '---']));
  console.log(row(['start to ready (ensemble + 100k index load)', `${ready} ms`]));
  console.log(row(['server RSS after start, 100k file records', `${idle.toFixed(1)} MB`]));
  console.log(row(['server RSS after 20 diagnostics + 20 /metrics', `${after.toFixed(1)} MB`]));
  console.log(row(['GET /api/scheduler/diagnostics over HTTP, median of 20', `${median(times).toFixed(1)} ms`]));
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
