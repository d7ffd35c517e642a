/**
 * Grows a real 3-node ensemble to 5 and shrinks it back to 3, one server per step, under a steady
 * write load (one session over all five client addresses creating znodes back to back):
 * - no committed write lost: every create that returned success is on every member after every step;
 * - a leader serving at the end;
 * - the write unavailability window of each step (longest stretch without a successful write) is
 *   printed as a `[figure]` line; it is measured, not asserted (speed belongs to benchmarks).
 * The last step removes whichever server leads by then, the worst case for writers.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { memberTargets, probeSync, readMembership, ZkClient } from '@zkha/zk';
import { WriteLoad } from '@zkha/zk/testing';
import { addServer, removeServer, type MembershipChangeResult } from './membership-changes.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';
import { getFreePorts, startTestEnsemble, type TestEnsemble } from './testing.ts';

let zk: TestEnsemble;
let load: WriteLoad;
let extra: EnsembleNodeSpec[];
const figures: string[] = [];

beforeAll(async () => {
  zk = await startTestEnsemble({ size: 3 });
  const ports = await getFreePorts(8);
  extra = [4, 5].map((id, i) => ({
    name: `zk${id}`,
    id,
    clientPort: ports[i * 4] as number,
    quorumPort: ports[i * 4 + 1] as number,
    electionPort: ports[i * 4 + 2] as number,
    adminPort: ports[i * 4 + 3] as number,
  }));
  // The writers' session knows all five addresses from the start, like a client configured for the
  // grown ensemble; addresses of servers not running yet are simply skipped when it (re)connects.
  const all = [...zk.nodes, ...extra].map((n) => `127.0.0.1:${n.clientPort}`).join(',');
  load = await WriteLoad.start(all, { root: '/scaling' });
});

afterAll(async () => {
  await load?.stop();
  await zk?.stop();
  // All figures together at the end, in step order, for the closing note.
  console.log(figures.join('\n'));
});

/** Every committed write is on every running member (each read directly, retried while it catches up). */
async function expectAllPresentEverywhere(): Promise<void> {
  for (const n of zk.nodes.filter((x) => zk.isRunning(x.name))) {
    const direct = await ZkClient.connect(`127.0.0.1:${n.clientPort}`);
    try {
      await vi.waitFor(async () => expect(await load.missing(direct)).toEqual([]), { timeout: 10_000, interval: 200 });
    } finally {
      await direct.close();
    }
  }
}

async function step(label: string, change: () => Promise<MembershipChangeResult | null>): Promise<MembershipChangeResult | null> {
  await load.segment(label.replace(/[^a-z0-9]+/gi, '-'));
  const okBefore = load.committed.length;
  const failedBefore = load.failures.length;
  const from = load.now();
  const result = await change();
  // Let the writers run on the new membership a moment, so the window includes any after-effect.
  await new Promise((r) => setTimeout(r, 500));
  const to = load.now();
  await expectAllPresentEverywhere();
  const voters = result ? result.after.servers.filter((s) => s.role === 'participant').length : zk.nodes.length;
  figures.push(
    `[figure] reconfig ${label}: write unavailability window ${load.windowMs(from, to)} ms ` +
      `(${load.committed.length - okBefore} writes ok, ${load.failures.length - failedBefore} failed with unknown outcome, ` +
      `${voters} voters after, step ${Math.round(to - from - 500)} ms` +
      (result ? `: join ${result.timings.joinMs} ms, reconfig ${result.timings.reconfigMs} ms, sync ${result.timings.syncMs} ms` : '') +
      ')',
  );
  return result;
}

describe('3 → 5 → 3 under write load', () => {
  it('baseline: writes flow on 3 servers', async () => {
    await step('baseline (no change, 2 s)', async () => {
      await new Promise((r) => setTimeout(r, 2000));
      return null;
    });
    expect(load.committed.length).toBeGreaterThan(50);
  });

  it('adds zk4 (4 voters: confirmed) and zk5', async () => {
    const r4 = await step('add zk4 (3 → 4 voters)', () => addServer(zk, extra[0] as EnsembleNodeSpec, { confirmed: true }));
    expect(r4?.check.needsConfirmation).toBe(true);
    expect(r4?.after.servers.map((s) => s.id)).toEqual([1, 2, 3, 4]);
    const r5 = await step('add zk5 (4 → 5 voters)', () => addServer(zk, extra[1] as EnsembleNodeSpec));
    expect(r5?.check.after).toEqual({ voters: 5, observers: 0, quorum: 3, tolerates: 2 });
    const m = await readMembership(load.client, { names: zk.nodes });
    expect(m.voters.map((v) => v.name)).toEqual(['zk1', 'zk2', 'zk3', 'zk4', 'zk5']);
    expect(m.divergent).toEqual([]);
  });

  it('removes zk5 (confirmed: 4 voters) and then the leader', async () => {
    const r5 = await step('remove zk5 (5 → 4 voters)', () => removeServer(zk, 'zk5', { confirmed: true, deleteData: true }));
    expect(r5?.after.servers).toHaveLength(4);
    const leader = await zk.waitForQuorum();
    const rl = await step(`remove the leader ${leader} (4 → 3 voters)`, () => removeServer(zk, leader, { deleteData: true }));
    expect(rl?.after.servers).toHaveLength(3);
    expect(rl?.leader).not.toBe(leader);
    expect(zk.nodes).toHaveLength(3);
  });

  it('ends with 3 voters in sync, a leader serving writes, and no committed write lost', async () => {
    const m = await readMembership(load.client, { names: zk.nodes });
    expect(m.voters).toHaveLength(3);
    expect(m.divergent).toEqual([]);
    const sync = await probeSync(memberTargets(m.config, zk.nodes));
    expect(sync).toMatchObject({ inSync: true, syncedFollowers: 2 });
    const leaderNode = zk.nodes.find((n) => n.name === sync.leader) as EnsembleNodeSpec;
    const direct = await ZkClient.connect(`127.0.0.1:${leaderNode.clientPort}`);
    try {
      expect(await direct.create('/scaling/at-the-end', 'ok')).toBe('/scaling/at-the-end');
    } finally {
      await direct.close();
    }
    await load.stop();
    await expectAllPresentEverywhere();
    expect(load.committed.length).toBeGreaterThan(200);
    figures.push(
      `[figure] reconfig 3 → 5 → 3 total: ${load.committed.length} writes committed and all present on every member, ` +
        `${load.failures.length} failed with unknown outcome`,
    );
  });
});
