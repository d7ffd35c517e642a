/**
 * EnsembleService's automatic mode on a real 3-node ensemble: the load history is fed with probes built
 * here (a clock that the test moves, so ten minutes of sustained load take no ten minutes), and the
 * changes it triggers are real (JVMs started, reconfig, JVMs stopped). Also: what the service answers
 * where zkha does not run the servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_LOAD_SCORE_CONFIG, unknownServerStats, type ZkServerStats } from '@zkha/core';

import { createTestServices, type TestServices } from '../testing.ts';

const MIN = 60_000;
let now = Date.parse('2025-06-01T10:00:00Z');
const clock = { now: () => new Date(now) };
let t: TestServices;

beforeAll(async () => {
  t = await createTestServices({
    services: {
      clock,
      ensemble: {
        policy: { forMinutes: 5, cooldownMinutes: 20, upThreshold: 60, downThreshold: 10 },
        // Latency alone, so the real JVMs' CPU and memory (read from /proc meanwhile) do not blur the fed scores.
        score: { ...DEFAULT_LOAD_SCORE_CONFIG, weights: { requests: 0, latency: 1, cpu: 0, memory: 0, disk: 0 } },
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
});

/** One probe of every member, each server answering with `latencyMs` (the score's only weighted component: 20 ms = 100). */
function probe(latencyMs: number): ZkServerStats[] {
  return t.services.cluster.members.map((m) => ({
    ...unknownServerStats(m.name, m.host, m.port, null, clock.now()),
    up: true,
    reachable: true,
    mode: 'follower',
    latencyAvg: latencyMs,
  }));
}

/** `minutes` of probes, one every 10 s. */
function feed(minutes: number, latencyMs: number): void {
  for (let i = 0; i < (minutes * MIN) / 10_000; i++) {
    now += 10_000;
    t.services.load.ingest(probe(latencyMs));
  }
}

describe('automatic scaling', () => {
  it('off by default: a sustained high load is only a recommendation', async () => {
    feed(6, 16); // score 80 > 60
    const view = await t.services.ensemble.evaluate();
    expect(view.recommendation).toMatchObject({ action: 'scale_up', blockedBy: null, currentVoters: 3, targetVoters: 5 });
    expect(view.recommendation.figures.min).toBe(80);
    expect(view.actionable).toBe(false);
    expect(t.ensemble.nodes).toHaveLength(3);
  });

  it('on: grows 3 → 5 in two recorded steps, each with its cause, then cools down', async () => {
    t.services.ensemble.setPolicy({ ...t.services.ensemble.policy(), auto: true });
    const view = await t.services.ensemble.evaluate();
    // The whole record in the message: a failed step says why (under load, a guard or a timeout).
    expect(view.lastAutoAction, JSON.stringify(view.lastAutoAction)).toMatchObject({ action: 'scale_up', status: 'success' });
    expect(t.ensemble.nodes.map((n) => [n.name, n.role ?? 'participant'])).toEqual([
      ['zk1', 'participant'],
      ['zk2', 'participant'],
      ['zk3', 'participant'],
      ['zk4', 'participant'],
      ['zk5', 'participant'],
    ]);
    expect((await t.services.ensemble.membership()).voters).toHaveLength(5);
    const auto = t.services.operations.list({ action: 'ensemble_auto_scale' }).items;
    expect(auto).toHaveLength(1);
    expect(auto[0]).toMatchObject({
      status: 'success',
      details: { from: 3, to: 5, done: ['added zk4', 'added zk5'], cause: expect.stringMatching(/stayed above 60 for 5 min/) },
    });
    const adds = t.services.operations.list({ action: 'ensemble_add_server' }).items;
    expect(adds.map((o) => [o.node, o.details.cause])).toEqual([
      ['zk5', 'auto'],
      ['zk4', 'auto'],
    ]);
    expect(adds[1]?.details.recommendation).toMatch(/grow 3 → 5 voters/);
    expect(t.services.session.connectionString.split(',')).toHaveLength(5);

    // Still loaded, now on 5 voters: the cool-down holds the next step (and 7 is the most the policy allows after it).
    feed(6, 16);
    const next = await t.services.ensemble.evaluate();
    expect(next.recommendation).toMatchObject({ action: 'scale_up', blockedBy: 'cooldown', currentVoters: 5, targetVoters: 7 });
    expect(t.ensemble.nodes).toHaveLength(5);
  });

  it('after the cool-down, a sustained low load shrinks 5 → 3, never removing the leader, the added servers first', async () => {
    feed(20, 0.5); // score 2.5 < 10, and past the cool-down
    const leader = (await t.services.ensemble.membership()).leader;
    const view = await t.services.ensemble.evaluate();
    expect(view.lastAutoAction).toMatchObject({ action: 'scale_down', status: 'success' });
    const names = t.ensemble.nodes.map((n) => n.name);
    expect(names).toHaveLength(3);
    expect(names).toContain(leader);
    const m = await t.services.ensemble.membership();
    expect(m.voters).toHaveLength(3);
    expect(m.divergent).toEqual([]);
    const removed = t.services.operations.list({ action: 'ensemble_remove_server' }).items.map((o) => o.node);
    expect(removed).toHaveLength(2);
    // zk4 and zk5 were added by the policy; the storage nodes' own servers stay unless one of them led.
    if (!['zk4', 'zk5'].includes(leader ?? '')) expect(removed.sort()).toEqual(['zk4', 'zk5']);
    expect(t.services.operations.list({ action: 'ensemble_auto_scale' }).items[0]).toMatchObject({ details: { from: 5, to: 3 } });
    // Back at the minimum: a low load asks for nothing more.
    now += 21 * MIN;
    feed(6, 0.5);
    expect((await t.services.ensemble.evaluate()).recommendation).toMatchObject({ action: 'scale_down', blockedBy: 'min_voters' });
    expect(t.ensemble.nodes).toHaveLength(3);
  });
});

describe('where zkha does not run the servers', () => {
  it('reads the membership, but adding, removing and rolling restarts answer NOT_SUPPORTED with the reason', async () => {
    const ext = await createTestServices({ ensemble: t.ensemble, services: { localEnsemble: null } });
    try {
      const m = await ext.services.ensemble.membership();
      expect(m.driver).toBe('external');
      expect(m.changesSupported).toBe(false);
      expect(m.voters).toEqual(t.ensemble.nodes.map((n) => n.name));
      const plan = await ext.services.ensemble.planChange({ action: 'add' });
      expect(plan).toMatchObject({ supported: false, wouldRun: { withConfirm: false } });
      await expect(ext.services.ensemble.addServer({ role: 'participant', confirm: true })).rejects.toMatchObject({
        code: 'NOT_SUPPORTED',
        message: expect.stringMatching(/embedded default only: zkha does not run the servers of an external ensemble/),
      });
      await expect(ext.services.ensemble.removeServer({ node: 'zk1', confirm: true })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
      const dry = await ext.services.ensemble.rollingRestart({ dryRun: true });
      expect(dry.plan).toMatchObject({
        supported: false,
        unsupportedReason: expect.stringMatching(/cannot restart the servers of an external ensemble/),
      });
      await expect(ext.services.ensemble.rollingRestart({ dryRun: false })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    } finally {
      await ext.close();
    }
  });
});
