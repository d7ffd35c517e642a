/**
 * Rolling restart of a real 3-node ensemble under a steady write load: dry run by default, refused
 * while the ensemble is not in sync, then followers first and the leader last, each step waiting for
 * the ensemble to be back in sync. Prints the total time and the longest write pause as `[figure]`
 * lines (measured, not asserted).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAppError } from '@zkha/core';
import { probeSync, rollingRestart, ZkClient, type RollingRestartEvent } from '@zkha/zk';
import { WriteLoad } from '@zkha/zk/testing';
import { localRestartTarget } from './restart-target.ts';
import { startTestEnsemble, type TestEnsemble } from './testing.ts';

let zk: TestEnsemble;
let load: WriteLoad;

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
  load = await WriteLoad.start(zk.connectionString, { root: '/rolling' });
});

afterAll(async () => {
  await load?.stop();
  await zk?.stop();
});

function pids(): (number | null)[] {
  return zk.nodes.map((n) => zk.pid(n.name));
}

describe('rollingRestart', () => {
  it('is a dry run unless told otherwise: the plan, leader last, nothing restarted', async () => {
    const before = pids();
    const leader = await zk.waitForQuorum();
    const plan = await rollingRestart(await localRestartTarget(zk));
    expect(plan.dryRun).toBe(true);
    expect(plan.steps).toEqual([]);
    expect(plan.order).toHaveLength(3);
    expect(plan.order.at(-1)).toBe(leader);
    expect(plan.leaderBefore).toBe(leader);
    expect(pids()).toEqual(before);
  });

  it('refuses to start while a member is down', async () => {
    const target = await localRestartTarget(zk);
    const leader = await zk.waitForQuorum();
    const follower = zk.nodes.find((n) => n.name !== leader)?.name as string;
    await zk.stopNode(follower);
    try {
      const err = await rollingRestart(target, { dryRun: false }).catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('NO_QUORUM');
      expect((err as Error).message).toMatch(new RegExp(`not in sync \\(not serving: ${follower}`));
    } finally {
      await zk.startNode(follower);
    }
    await vi.waitFor(async () => expect((await probeSync(target.members)).inSync).toBe(true), { timeout: 30_000, interval: 200 });
  });

  it('restarts followers first and the leader last under load, in sync after each step, no write lost', async () => {
    const target = await localRestartTarget(zk);
    const before = pids();
    const events: RollingRestartEvent[] = [];
    await load.segment('restart');
    const from = load.now();
    const okBefore = load.committed.length;
    const res = await rollingRestart(target, { dryRun: false, onProgress: (e) => events.push(e) });
    const to = load.now();

    expect(res.dryRun).toBe(false);
    expect(res.steps.map((s) => s.name)).toEqual(res.order);
    expect(res.steps.map((s) => s.mode)).toEqual(['follower', 'follower', 'leader']);
    expect(res.steps.at(-1)?.name).toBe(res.leaderBefore);
    expect(res.leaderAfter).not.toBeNull();
    expect(res.leaderAfter).not.toBe(res.leaderBefore);
    // Every JVM is a new one.
    const after = pids();
    for (let i = 0; i < before.length; i++) expect(after[i]).not.toBe(before[i]);
    expect(events.map((e) => e.type)).toEqual(['plan', 'restarting', 'synced', 'restarting', 'synced', 'restarting', 'synced']);
    // Each step ended in sync: the leader counted both followers as synced.
    expect((await probeSync(target.members)).syncedFollowers).toBe(2);

    await load.stop();
    for (const n of zk.nodes) {
      const direct = await ZkClient.connect(`127.0.0.1:${n.clientPort}`);
      try {
        await vi.waitFor(async () => expect(await load.missing(direct)).toEqual([]), { timeout: 10_000, interval: 200 });
      } finally {
        await direct.close();
      }
    }
    const steps = res.steps.map((s) => `${s.name} (${s.mode}) restart ${s.restartMs} ms + sync ${s.syncMs} ms`).join(', ');
    console.log(
      [
        `[figure] rolling restart of 3 nodes under load: total ${res.totalMs} ms; ${steps}`,
        `[figure] rolling restart longest write pause: ${load.windowMs(from, to)} ms ` +
          `(${load.committed.length - okBefore} writes ok during it, ${load.failures.length} failed with unknown outcome; all committed writes present)`,
      ].join('\n'),
    );
  });
});
