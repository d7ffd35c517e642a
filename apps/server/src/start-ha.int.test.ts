/**
 * `npm run start:ha` as the README shows it: three instances on the embedded ensemble, on consecutive ports; one
 * leads, two follow, each says so on /healthz; Ctrl-C (SIGINT) stops all three and the ensemble.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { expect, it } from 'vitest';

import { START_HA_BUNDLE, testServerEnv } from './testing.ts';

it('starts three instances on consecutive ports, one leader and two followers; the leader killed, another leads; SIGINT stops everything', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'zkha-start-ha-'));
  const base = await testServerEnv(dir, { httpPorts: 3 });
  const port = Number(base.PORT);
  const env = { ...process.env, ...base, LOG_LEVEL: 'warn' };
  // The bundle `npm run start:ha` runs (built by the global setup), from another working directory, as a person might.
  const proc = spawn(process.execPath, [START_HA_BUNDLE], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const deadline = Date.now() + 120_000;
    while (!out.includes('zkha: 3 instances at')) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`start:ha did not get ready:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const roles = [];
    for (let i = 0; i < 3; i++) {
      const health = (await (await fetch(`http://127.0.0.1:${port + i}/healthz`)).json()) as {
        control: { role: string; instance: string };
      };
      roles.push(health.control);
    }
    expect(roles).toEqual([
      { role: 'leader', instance: 'zkha-1' },
      { role: 'follower', instance: 'zkha-2' },
      { role: 'follower', instance: 'zkha-3' },
    ]);
    const control = (await (await fetch(`http://127.0.0.1:${port + 2}/api/control`)).json()) as {
      leader: { id: string; url: string };
      instances: { id: string }[];
    };
    expect(control.leader).toMatchObject({ id: 'zkha-1', url: `http://127.0.0.1:${port}` });
    expect(control.instances.map((i) => i.id)).toEqual(['zkha-1', 'zkha-2', 'zkha-3']);

    // As the README says: kill -9 the leader; the ensemble (the launcher's) lives on and another instance leads.
    const pid = Number(/pid=(\d+)/.exec(execFileSync('ss', ['-ltnpH', 'sport', '=', `:${port}`], { encoding: 'utf8' }))![1]);
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    let next: string | null = null;
    while (!next) {
      for (const p of [port + 1, port + 2]) {
        const h = (await (await fetch(`http://127.0.0.1:${p}/healthz`)).json()) as { control: { role: string; instance: string } };
        if (h.control.role === 'leader') next = h.control.instance;
      }
      if (Date.now() - t0 > 30_000) throw new Error('no instance took over within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(next).toBe('zkha-2');
  } finally {
    if (proc.exitCode === null) proc.kill('SIGINT');
    expect(await exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
  // Nothing left behind: no server, no ZooKeeper of this run.
  for (let i = 0; i < 3; i++) await expect(fetch(`http://127.0.0.1:${port + i}/healthz`)).rejects.toThrow();
  expect(execFileSync('ss', ['-ltnH', 'sport', '=', `:${Number(base.ZK_CLIENT_PORT_BASE)}`], { encoding: 'utf8' }).trim()).toBe('');
}, 180_000);
