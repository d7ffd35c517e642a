/**
 * What `npm start` runs: the server's bundle (apps/server/dist/main.mjs, built by the global setup) under plain
 * node, starting its agents from their bundle, answering the README's first example, and stopping everything on
 * SIGINT. The other server tests boot the sources; this one checks the artifact people run.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { expect, it } from 'vitest';

import { eventually, SERVER_BUNDLE, testServerEnv } from './testing.ts';

/** The command lines of `pid`'s children, read from /proc. */
function childCommands(pid: number): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]);
      if (ppid === pid) out.push(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

it('the bundle starts the ensemble and bundled agents, runs the README example, and stops on SIGINT', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'zkha-npm-start-'));
  const base = await testServerEnv(dir);
  const env = { ...process.env, ...base, LOG_LEVEL: 'warn' };
  const proc = spawn(process.execPath, [SERVER_BUNDLE], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const url = `http://127.0.0.1:${base.PORT}`;
  try {
    await eventually(() => out.includes('zkha: ready at') || proc.exitCode !== null, 120_000, 'the ready line');
    expect(out, out).toContain(`zkha: ready at ${url}/ui/`);
    // Its agents run from their bundle too (no tsx anywhere).
    const agents = await eventually(() => {
      const a = childCommands(proc.pid!).filter((c) => c.includes('--node'));
      return a.length === 3 && a;
    });
    for (const a of agents) expect(a).toMatch(/packages\/agent\/dist\/main\.mjs --node zk\d/);
    expect(childCommands(proc.pid!).join('\n')).not.toContain('tsx');

    // The README's first example.
    const post = (p: string, body?: unknown) =>
      fetch(`${url}${p}`, {
        method: 'POST',
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
    expect((await post('/api/demo/stress', { node: 'zk1', files: 12, size_kb: 128 })).status).toBe(200);
    const diag = (await (await fetch(`${url}/api/scheduler/diagnostics`)).json()) as {
      counts: Record<string, number>;
      shouldMigrate: boolean;
    };
    expect(diag.counts).toEqual({ zk1: 12, zk2: 0, zk3: 0 });
    expect(diag.shouldMigrate).toBe(true);
    const run = (await (await post('/api/scheduler/run')).json()) as { after: { counts: Record<string, number> } };
    expect(run.after.counts).toEqual({ zk1: 6, zk2: 3, zk3: 3 });
  } finally {
    if (proc.exitCode === null) proc.kill('SIGINT');
    expect(await exited, out.slice(-2000)).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}, 180_000);
