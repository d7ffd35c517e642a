/**
 * The ensemble router through createCaller over real services on a real 3-node ensemble: membership,
 * the guards' refusals as coded 4xx errors, the load view, the rolling-restart dry run, the policy.
 * Changes that grow and shrink the ensemble under load run in apps/server's ensemble-scaling test.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createTestServices, type TestServices } from '@zkha/services/testing';

import { createContextInner } from '../context.ts';
import { createCaller } from '../root.ts';
import { errorOf } from './test-helpers.ts';

let t: TestServices;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await createTestServices();
  await t.services.start();
  caller = createCaller(createContextInner({ services: t.services }));
});
afterAll(async () => {
  await t?.close();
});

/** The next tracked event's data, whether the caller hands back the envelope or not. */
async function nextData<T>(it: AsyncIterator<unknown>): Promise<T> {
  const r = await it.next();
  if (r.done) throw new Error('subscription ended');
  const v = r.value;
  if (Array.isArray(v)) return v[1] as T;
  return (v as { data: T }).data;
}

describe('ensemble.membership', () => {
  it('lists 3 voters in agreement, the leader, the quorum and zkha’s own server list', async () => {
    const m = await caller.ensemble.membership();
    expect(m.driver).toBe('process');
    expect(m.changesSupported).toBe(true);
    expect(m.voters).toEqual(['zk1', 'zk2', 'zk3']);
    expect(m.observers).toEqual([]);
    expect(m.quorum).toEqual({ voters: 3, observers: 0, quorum: 2, tolerates: 1 });
    expect(m.version).toMatch(/^[0-9a-f]+$/);
    expect(m.divergent).toEqual([]);
    expect(m.leader).toMatch(/^zk[123]$/);
    expect(m.servers.map((s) => [s.name, s.configVersion, s.agrees, s.running])).toEqual([
      ['zk1', m.version, true, true],
      ['zk2', m.version, true, true],
      ['zk3', m.version, true, true],
    ]);
    expect(m.connectionString).toBe(t.ensemble.connectionString);
  });
});

describe('ensemble guards', () => {
  it('planChange shows the quorum before and after and flags an even voter count', async () => {
    const plan = await caller.ensemble.planChange({ action: 'add', role: 'participant' });
    expect(plan).toMatchObject({ action: 'add', node: 'zk4', id: 4, role: 'participant', supported: true });
    expect(plan.check.before).toEqual({ voters: 3, observers: 0, quorum: 2, tolerates: 1 });
    expect(plan.check.after).toEqual({ voters: 4, observers: 0, quorum: 3, tolerates: 1 });
    expect(plan.check.needsConfirmation).toBe(true);
    expect(plan.wouldRun).toEqual({ withoutConfirm: false, withConfirm: true });
    const observer = await caller.ensemble.planChange({ action: 'add', role: 'observer' });
    expect(observer.check.after).toEqual({ voters: 3, observers: 1, quorum: 2, tolerates: 1 });
    expect(observer.check.needsConfirmation).toBe(false);
  });

  it('planChange refuses to go below 3 voters', async () => {
    const plan = await caller.ensemble.planChange({ action: 'remove', node: 'zk2' });
    expect(plan.check.allowed).toBe(false);
    expect(plan.check.refusal).toBe('guard');
    expect(plan.check.problems.join(' ')).toMatch(/leaves 2 voters, fewer than 3/);
    expect(plan.wouldRun).toEqual({ withoutConfirm: false, withConfirm: false });
    // zk2 is also a storage node, whose agent only talks to its own server: said up front.
    expect(plan.check.warnings.join(' ')).toMatch(/zk2 is also storage node zk2/);
  });

  it('removeServer below 3 voters is a 409 CONFLICT that changes nothing', async () => {
    const err = await errorOf(caller.ensemble.removeServer({ node: 'zk2', confirm: true }));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toMatch(/membership change refused: the change leaves 2 voters, fewer than 3/);
    expect((await caller.ensemble.membership()).voters).toEqual(['zk1', 'zk2', 'zk3']);
  });

  it('addServer to 4 voters without confirm is a 409 CONFLICT asking for it, and no server is started', async () => {
    const err = await errorOf(caller.ensemble.addServer({ role: 'participant' }));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toMatch(/needs confirmation: 4 voters tolerate 1 failure/);
    expect(t.ensemble.nodes.map((n) => n.name)).toEqual(['zk1', 'zk2', 'zk3']);
  });

  it('unknown server and bad input are 404 and 400', async () => {
    expect((await errorOf(caller.ensemble.removeServer({ node: 'zk9', confirm: true }))).code).toBe('NOT_FOUND');
    expect((await errorOf(caller.ensemble.planChange({ action: 'remove', node: 'zk9' }))).code).toBe('NOT_FOUND');
    const bad = await errorOf(caller.ensemble.planChange({ action: 'remove' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.message).toMatch(/node is required to remove a server/);
    // @ts-expect-error a role that does not exist
    expect((await errorOf(caller.ensemble.addServer({ role: 'leader' }))).code).toBe('BAD_REQUEST');
  });
});

describe('ensemble.load', () => {
  it('returns numbers for each server, host figures from /proc, and the score with its formula', async () => {
    // Two probes at least: the request rate and CPU come from deltas.
    const view = await vi.waitFor(
      async () => {
        const v = await caller.ensemble.load();
        expect(v.nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk3']);
        for (const n of v.nodes) {
          expect(n.sample?.requestsPerSec).toEqual(expect.any(Number));
          expect(n.sample?.cpuPercent).toEqual(expect.any(Number));
        }
        return v;
      },
      { timeout: 15_000, interval: 300 },
    );
    for (const n of view.nodes) {
      const s = n.sample!;
      expect(s.up).toBe(true);
      expect(s.latencyAvgMs).toEqual(expect.any(Number));
      expect(s.latencyMaxMs).toEqual(expect.any(Number));
      expect(s.latencyP99Ms).toEqual(expect.any(Number));
      expect(s.connections).toBeGreaterThanOrEqual(0);
      expect(s.znodeCount).toBeGreaterThan(0);
      expect(s.watchCount).toBeGreaterThanOrEqual(0);
      expect(s.approximateDataSizeBytes).toBeGreaterThan(0);
      expect(s.openFileDescriptors).toBeGreaterThan(0);
      expect(s.outstandingRequests).toBeGreaterThanOrEqual(0);
      expect(s.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(s.hostSource).toBe('process');
      expect(s.score).toBeGreaterThanOrEqual(0);
      expect(n.load.components.map((c) => c.key)).toEqual(['requests', 'latency', 'cpu', 'memory', 'disk']);
    }
    expect(view.ensemble.score).toBeGreaterThanOrEqual(0);
    expect(view.config.formula).toMatch(/^score = 100 ×/);
    expect(view.config.weights).toEqual({ requests: 1, latency: 1, cpu: 1, memory: 1, disk: 1 });
    const history = await caller.ensemble.loadHistory({ minutes: 5 });
    expect(history.ensemble.length).toBeGreaterThan(1);
    expect(history.nodes.find((n) => n.node === 'zk1')?.samples.length).toBeGreaterThan(1);
  });

  it('onLoad streams a view at every probe', async () => {
    const ac = new AbortController();
    const sub = createCaller(createContextInner({ services: t.services }), { signal: ac.signal });
    const it = (await sub.ensemble.onLoad())[Symbol.asyncIterator]();
    type View = Awaited<ReturnType<typeof caller.ensemble.load>>;
    const first = await nextData<View>(it);
    const second = await nextData<View>(it);
    expect(Date.parse(second.at)).toBeGreaterThanOrEqual(Date.parse(first.at));
    expect(second.nodes).toHaveLength(3);
    ac.abort();
  });
});

describe('ensemble.onMembership', () => {
  it('yields the membership, then the new one after each change (an observer added, then removed)', async () => {
    type M = Awaited<ReturnType<typeof caller.ensemble.membership>>;
    const ac = new AbortController();
    const sub = createCaller(createContextInner({ services: t.services }), { signal: ac.signal });
    const it = (await sub.ensemble.onMembership())[Symbol.asyncIterator]();
    const first = await nextData<M>(it);
    expect(first.observers).toEqual([]);

    const added = await caller.ensemble.addServer({ role: 'observer' });
    expect(added).toMatchObject({ node: 'zk4', role: 'observer', check: { needsConfirmation: false } });
    let m = await nextData<M>(it);
    while (m.observers.length === 0) m = await nextData<M>(it);
    expect(m).toMatchObject({ voters: ['zk1', 'zk2', 'zk3'], observers: ['zk4'], divergent: [] });
    expect(m.connectionString.split(',')).toHaveLength(4);

    await caller.ensemble.removeServer({ node: 'zk4' });
    while (m.observers.length > 0) m = await nextData<M>(it);
    expect(m.observers).toEqual([]);
    expect(m.connectionString).toBe(t.ensemble.connectionString);
    ac.abort();
  });
});

describe('ensemble.rollingRestart', () => {
  it('is a dry run by default: followers first, the leader last, with reasons; nothing restarts', async () => {
    const leader = (await caller.ensemble.membership()).leader;
    const pids = t.ensemble.nodes.map((n) => t.ensemble.pid(n.name));
    const answer = await caller.ensemble.rollingRestart();
    expect(answer.dryRun).toBe(true);
    expect(answer.job).toBeNull();
    expect(answer.plan.ready).toBe(true);
    expect(answer.plan.order).toHaveLength(3);
    expect(answer.plan.order.at(-1)).toMatchObject({ node: leader, mode: 'leader', reason: expect.stringMatching(/^leader last/) });
    expect(answer.plan.order.slice(0, 2).every((s) => s.mode === 'follower' && /^follower/.test(s.reason))).toBe(true);
    expect(t.ensemble.nodes.map((n) => t.ensemble.pid(n.name))).toEqual(pids);
    expect(await caller.ensemble.rollingRestartStatus()).toBeNull();
    // The same plan as a query, for viewers and read-only servers.
    const plan = await caller.ensemble.rollingRestartPlan();
    expect(plan.order.map((s) => s.node)).toEqual(answer.plan.order.map((s) => s.node));
  });
});

describe('ensemble policy', () => {
  it('starts off with the defaults, and setPolicy replaces it and records an operation', async () => {
    expect(await caller.ensemble.policy()).toEqual({
      auto: false,
      upThreshold: 75,
      downThreshold: 20,
      forMinutes: 10,
      cooldownMinutes: 30,
      minVoters: 3,
      maxVoters: 7,
    });
    const next = await caller.ensemble.setPolicy({ auto: false, upThreshold: 80, downThreshold: 10, forMinutes: 5, cooldownMinutes: 15 });
    expect(next).toEqual({
      auto: false,
      upThreshold: 80,
      downThreshold: 10,
      forMinutes: 5,
      cooldownMinutes: 15,
      minVoters: 3,
      maxVoters: 7,
    });
    const ops = t.services.operations.list({ action: 'ensemble_policy' });
    expect(ops.items[0]?.details).toMatchObject({ after: next });
  });

  it('refuses inconsistent thresholds with a 400 naming the field', async () => {
    const err = await errorOf(
      caller.ensemble.setPolicy({ auto: true, upThreshold: 20, downThreshold: 30, forMinutes: 5, cooldownMinutes: 15 }),
    );
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/downThreshold must be below upThreshold/);
  });

  it('recommendations: not enough history yet, with the figures', async () => {
    const r = await caller.ensemble.recommendations();
    expect(r.recommendation.action).toBe('none');
    expect(r.recommendation.blockedBy).toBe('not_enough_history');
    expect(r.recommendation.figures.samples).toBeGreaterThan(0);
    expect(r.voters).toBe(3);
    expect(r.actionable).toBe(false);
  });
});
