/**
 * Ensemble scaling through the API, on the whole server as `npm start` runs it (embedded ensemble,
 * storage agents, real JVMs on free loopback ports), under a steady write load:
 * - 3 → 5 → 3 voters (add a participant to 4, confirmed; to 5; remove to 4, confirmed; to 3): after each
 *   step every committed write is on every running server, zkha's own session works on the new server
 *   list, and the cluster monitor and node control know the new members; a leader serves at the end;
 * - a rolling restart (dry run first, then the job, followed through the subscription);
 * - the membership survives a restart of zkha (an observer added before it is started again).
 * Figures (write unavailability per step, rolling restart total and longest write pause) are printed as
 * `[figure]` lines: measured, not asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createCaller, createContextInner } from '@zkha/api';
import { ZkClient } from '@zkha/zk';
import { WriteLoad } from '@zkha/zk/testing';

import { boot, type RunningServer } from './boot.ts';
import { loadConfig } from './config.ts';
import { testServerEnv } from './testing.ts';

let dir: string;
let env: Record<string, string>;
let server: RunningServer;
let caller: ReturnType<typeof createCaller>;
let load: WriteLoad;
let clientBase: number;
const figures: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-scaling-'));
  // Room for servers 4 and 5 in every port range (a new server takes base + id - 1).
  env = await testServerEnv(dir, { zkPorts: 6 });
  clientBase = Number(env.ZK_CLIENT_PORT_BASE);
  server = await boot(loadConfig(env));
  caller = createCaller(createContextInner({ services: server.services }));
  // The writers know all five addresses from the start, like a client configured for the grown ensemble.
  const all = [0, 1, 2, 3, 4].map((i) => `127.0.0.1:${clientBase + i}`).join(',');
  load = await WriteLoad.start(all, { root: '/scaling-api' });
});

afterAll(async () => {
  await load?.stop().catch(() => undefined);
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  console.log(figures.join('\n'));
});

const ensemble = () => server.ensemble!;

/** Every committed write is on every running server (each read directly, while it catches up). */
async function expectAllPresentEverywhere(): Promise<void> {
  for (const n of ensemble().nodes.filter((x) => ensemble().isRunning(x.name))) {
    const direct = await ZkClient.connect(`127.0.0.1:${n.clientPort}`);
    try {
      await vi.waitFor(async () => expect(await load.missing(direct)).toEqual([]), { timeout: 10_000, interval: 200 });
    } finally {
      await direct.close();
    }
  }
}

/** zkha follows the membership: its session is on the new server list and works, the monitor and node control know the members. */
async function expectZkhaFollows(names: string[]): Promise<void> {
  const { session, cluster } = server.services;
  expect(session.connectionString).toBe(ensemble().connectionString);
  expect(session.connectionString.split(',')).toHaveLength(names.length);
  const p = await session.client.create(`/scaling-api-zkha-${Date.now()}`, 'ok');
  expect(await session.client.exists(p)).toBe(true);
  expect(cluster.members.map((m) => m.name)).toEqual(names);
  await vi.waitFor(async () => expect((await caller.nodes.list()).map((n) => [n.node, n.up])).toEqual(names.map((n) => [n, true])), {
    timeout: 10_000,
    interval: 200,
  });
  for (const n of names) expect((await caller.nodes.runtime({ node: n })).state).toBe('running');
}

async function step<T>(label: string, change: () => Promise<T>): Promise<T> {
  await load.segment(label.replace(/[^a-z0-9]+/gi, '-'));
  const okBefore = load.committed.length;
  const failedBefore = load.failures.length;
  const from = load.now();
  const result = await change();
  // Let the writers run on the new membership a moment, so the window includes any after-effect.
  await new Promise((r) => setTimeout(r, 500));
  const to = load.now();
  await expectAllPresentEverywhere();
  const timings = (result as { timings?: Record<string, number> } | undefined)?.timings;
  figures.push(
    `[figure] API reconfig ${label}: write unavailability window ${load.windowMs(from, to)} ms ` +
      `(${load.committed.length - okBefore} writes ok, ${load.failures.length - failedBefore} failed with unknown outcome, ` +
      `step ${Math.round(to - from - 500)} ms` +
      (timings
        ? `: join ${timings.joinMs} ms, reconfig ${timings.reconfigMs} ms, sync ${timings.syncMs} ms, zkha reconnect ${timings.reconnectMs} ms`
        : '') +
      ')',
  );
  return result;
}

describe('3 → 5 → 3 through the API under write load', { timeout: 180_000 }, () => {
  it('baseline: writes flow on 3 servers; the load view has numbers for each', async () => {
    await step('baseline (no change, 2 s)', () => new Promise((r) => setTimeout(r, 2000)));
    expect(load.committed.length).toBeGreaterThan(50);
    const view = await caller.ensemble.load();
    expect(view.nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk3']);
    for (const n of view.nodes) {
      expect(n.sample?.requestsPerSec).toBeGreaterThan(0);
      expect(n.sample?.rssBytes).toBeGreaterThan(0);
      expect(n.sample?.znodeCount).toBeGreaterThan(0);
    }
  });

  it('adds zk4 (4 voters: confirmed) and zk5', async () => {
    const plan = await caller.ensemble.planChange({ action: 'add', role: 'participant' });
    expect(plan).toMatchObject({ node: 'zk4', id: 4, supported: true, check: { needsConfirmation: true } });
    const r4 = await step('add zk4 (3 → 4 voters)', () => caller.ensemble.addServer({ role: 'participant', confirm: true }));
    expect(r4).toMatchObject({ node: 'zk4', id: 4, action: 'add', cause: 'operator', reconnectError: null });
    expect(r4.before.voters).toEqual(['zk1', 'zk2', 'zk3']);
    expect(r4.after.voters).toEqual(['zk1', 'zk2', 'zk3', 'zk4']);
    // The new server takes the fourth port of each configured range.
    expect(ensemble().nodes.find((n) => n.name === 'zk4')?.clientPort).toBe(clientBase + 3);
    await expectZkhaFollows(['zk1', 'zk2', 'zk3', 'zk4']);

    const r5 = await step('add zk5 (4 → 5 voters)', () => caller.ensemble.addServer({ role: 'participant' }));
    expect(r5.check.after).toEqual({ voters: 5, observers: 0, quorum: 3, tolerates: 2 });
    await expectZkhaFollows(['zk1', 'zk2', 'zk3', 'zk4', 'zk5']);
    const m = await caller.ensemble.membership();
    expect(m.voters).toEqual(['zk1', 'zk2', 'zk3', 'zk4', 'zk5']);
    expect(m.divergent).toEqual([]);
    expect(m.quorum.quorum).toBe(3);
    // Saved for the next start of zkha.
    const saved = JSON.parse(fs.readFileSync(path.join(env.ZK_DATA_DIR!, 'membership.json'), 'utf8')) as { nodes: { name: string }[] };
    expect(saved.nodes.map((n) => n.name)).toEqual(['zk1', 'zk2', 'zk3', 'zk4', 'zk5']);
    // Every change is an operation with the membership before and after.
    const ops = await caller.logs.operations({ action: 'ensemble_add_server', limit: 5 });
    expect(ops.items.map((o) => o.node)).toEqual(['zk5', 'zk4']);
    expect(ops.items[0]).toMatchObject({
      status: 'success',
      beforeMetrics: { membership: { voters: ['zk1', 'zk2', 'zk3', 'zk4'] } },
      afterMetrics: { membership: { quorum: { voters: 5 } } },
    });
  });

  it('refuses a removal to 4 voters without confirmation (409), changing nothing', async () => {
    const unconfirmed = caller.ensemble.removeServer({ node: 'zk5' });
    await expect(unconfirmed).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/needs confirmation/) });
    expect((await caller.ensemble.membership()).voters).toHaveLength(5);
  });

  it('removes zk5 (confirmed: 4 voters) and zk4, back to 3', async () => {
    const r5 = await step('remove zk5 (5 → 4 voters)', () => caller.ensemble.removeServer({ node: 'zk5', confirm: true }));
    expect(r5.after.voters).toEqual(['zk1', 'zk2', 'zk3', 'zk4']);
    await expectZkhaFollows(['zk1', 'zk2', 'zk3', 'zk4']);
    const r4 = await step('remove zk4 (4 → 3 voters)', () => caller.ensemble.removeServer({ node: 'zk4', confirm: false }));
    expect(r4.after.voters).toEqual(['zk1', 'zk2', 'zk3']);
    await expectZkhaFollows(['zk1', 'zk2', 'zk3']);
    expect(fs.existsSync(path.join(env.ZK_DATA_DIR!, 'zk4'))).toBe(false);
    // Below 3 voters: refused, 409.
    await expect(caller.ensemble.removeServer({ node: 'zk3', confirm: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/fewer than 3/),
    });
  });

  it('ends with 3 voters in sync, a leader serving writes, and no committed write lost', async () => {
    const m = await caller.ensemble.membership();
    expect(m.voters).toEqual(['zk1', 'zk2', 'zk3']);
    expect(m.divergent).toEqual([]);
    const leader = ensemble().nodes.find((n) => n.name === m.leader)!;
    const direct = await ZkClient.connect(`127.0.0.1:${leader.clientPort}`);
    try {
      expect(await direct.create('/scaling-api/at-the-end', 'ok')).toBe('/scaling-api/at-the-end');
    } finally {
      await direct.close();
    }
    await expectAllPresentEverywhere();
    figures.push(
      `[figure] API reconfig 3 → 5 → 3 total: ${load.committed.length} writes committed and all present on every server, ` +
        `${load.failures.length} failed with unknown outcome`,
    );
  });
});

describe('rolling restart through the API under write load', { timeout: 180_000 }, () => {
  it('dry run first, then the job: followers first, leader last, each step back in sync', async () => {
    const pids = ensemble().nodes.map((n) => ensemble().pid(n.name));
    const dry = await caller.ensemble.rollingRestart({ dryRun: true });
    expect(dry.job).toBeNull();
    expect(dry.plan.ready).toBe(true);
    expect(ensemble().nodes.map((n) => ensemble().pid(n.name))).toEqual(pids);

    const ac = new AbortController();
    const sub = createCaller(createContextInner({ services: server.services }), { signal: ac.signal });
    const stream = (await sub.ensemble.onRollingRestart())[Symbol.asyncIterator]();
    await stream.next(); // the current state (no job yet)

    await load.segment('rolling-restart');
    const from = load.now();
    const okBefore = load.committed.length;
    const started = await caller.ensemble.rollingRestart({ dryRun: false });
    expect(started.job?.status).toBe('running');
    // A second job while the first runs: refused.
    await expect(caller.ensemble.rollingRestart({ dryRun: false })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(caller.ensemble.addServer({ role: 'observer' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/rolling restart/),
    });

    const phases: string[] = [];
    for (;;) {
      const r = await stream.next();
      const v = r.value as unknown;
      const job = (Array.isArray(v) ? v[1] : (v as { data: unknown }).data) as Awaited<
        ReturnType<typeof caller.ensemble.rollingRestartStatus>
      >;
      if (job) for (const s of job.steps) if (!phases.includes(`${s.node}:${s.phase}`)) phases.push(`${s.node}:${s.phase}`);
      if (job && job.status !== 'running') break;
    }
    ac.abort();
    const to = load.now();
    const job = (await caller.ensemble.rollingRestartStatus())!;
    expect(job.status).toBe('succeeded');
    expect(job.steps.map((s) => s.mode)).toEqual(['follower', 'follower', 'leader']);
    expect(job.steps.at(-1)?.node).toBe(job.leaderBefore);
    expect(job.steps.every((s) => s.phase === 'done' && s.inSync && (s.waitedMs ?? -1) >= 0)).toBe(true);
    for (const s of job.steps)
      expect(phases).toEqual(expect.arrayContaining([`${s.node}:restarting`, `${s.node}:syncing`, `${s.node}:done`]));
    const after = ensemble().nodes.map((n) => ensemble().pid(n.name));
    for (let i = 0; i < pids.length; i++) expect(after[i]).not.toBe(pids[i]);
    await expectAllPresentEverywhere();
    await expectZkhaFollows(['zk1', 'zk2', 'zk3']);
    const ops = await caller.logs.operations({ action: 'ensemble_rolling_restart', limit: 1 });
    expect(ops.items[0]).toMatchObject({ status: 'success', details: { jobId: job.id } });

    const steps = job.steps.map((s) => `${s.node} (${s.mode}) restart ${s.restartMs} ms + sync ${s.waitedMs} ms`).join(', ');
    figures.push(
      `[figure] API rolling restart of 3 nodes under load: total ${job.totalMs} ms; ${steps}`,
      `[figure] API rolling restart longest write pause: ${load.windowMs(from, to)} ms (${load.committed.length - okBefore} writes ok during it, ${load.failures.length} failed with unknown outcome in all; all committed writes present)`,
    );
  });
});

describe('membership across a restart of zkha', { timeout: 180_000 }, () => {
  it('an observer added through the API is started again, as an observer, when zkha starts on the same data', async () => {
    await load.stop();
    const r = await caller.ensemble.addServer({ role: 'observer' });
    expect(r).toMatchObject({ node: 'zk4', role: 'observer' });
    expect(r.after).toMatchObject({ voters: ['zk1', 'zk2', 'zk3'], observers: ['zk4'] });
    const policy = await caller.ensemble.setPolicy({
      auto: false,
      upThreshold: 85,
      downThreshold: 5,
      forMinutes: 15,
      cooldownMinutes: 45,
      minVoters: 3,
      maxVoters: 5,
    });
    await server.stop();

    server = await boot(loadConfig(env));
    caller = createCaller(createContextInner({ services: server.services }));
    expect(ensemble().nodes.map((n) => [n.name, n.role])).toEqual([
      ['zk1', 'participant'],
      ['zk2', 'participant'],
      ['zk3', 'participant'],
      ['zk4', 'observer'],
    ]);
    const m = await caller.ensemble.membership();
    expect(m.voters).toEqual(['zk1', 'zk2', 'zk3']);
    expect(m.observers).toEqual(['zk4']);
    await vi.waitFor(async () => expect((await caller.ensemble.membership()).divergent).toEqual([]), { timeout: 15_000, interval: 300 });
    // Node control knows it; storage stays on the configured servers.
    expect((await caller.nodes.runtime({ node: 'zk4' })).state).toBe('running');
    expect(server.services.storageNodes.live).toEqual(['zk1', 'zk2', 'zk3']);
    expect(server.agents?.has('zk4')).toBe(false);
    // Its ZooKeeper log is tailed into the log store like the others'.
    await vi.waitFor(async () => expect((await caller.logs.search({ sources: ['zk4'], limit: 1 })).items).toHaveLength(1), {
      timeout: 20_000,
      interval: 500,
    });
    // The policy set through the API outlives the restart; the load history beyond the last hour comes per minute from the database.
    expect(await caller.ensemble.policy()).toEqual(policy);
    const long = await caller.ensemble.loadHistory({ minutes: 180 });
    expect(long.resolution).toBe('minute');
    expect(long.ensemble.length).toBeGreaterThan(0);
    // A rate needs two probes: a minute that holds only the first probe after a start has none (seen in CI when a
    // minute boundary fell right after the restart), so look for the minutes that have one.
    expect(long.nodes.find((n) => n.node === 'zk1')?.samples.some((x) => typeof x.requestsPerSec === 'number')).toBe(true);
  });
});
