import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestServices, type TestServices } from '@zkha/services/testing';

import { createContextInner } from '../context.ts';
import { createCaller } from '../root.ts';
import { errorOf } from './test-helpers.ts';

/** Node lifecycle and capacity procedures over a real context: real ensemble, SQLite file and upload folder. */
let t: TestServices;
let caller: ReturnType<typeof createCaller>;

beforeAll(async () => {
  t = await createTestServices({ scheduler: { threshold: 5, mode: 'whole_plan' } });
  t.services.engine.start();
  caller = createCaller(createContextInner({ services: t.services }));
});
afterAll(async () => {
  await t?.close();
});

describe('nodes lifecycle procedures', () => {
  it('lists the ensemble servers as active storage nodes', async () => {
    const nodes = await caller.nodes.lifecycle();
    expect(nodes.map((n) => [n.node, n.lifecycle, n.origin])).toEqual([
      ['zk1', 'active', 'ensemble'],
      ['zk2', 'active', 'ensemble'],
      ['zk3', 'active', 'ensemble'],
    ]);
  });

  it('rejects bad input with a 4xx and a message, changing nothing', async () => {
    const before = await caller.nodes.lifecycle();
    const bad = await errorOf(caller.nodes.addStorageNode({ node: '../../etc' }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.message).toMatch(/node must be a short name/);
    const weight = await errorOf(caller.nodes.addStorageNode({ node: 'store9', weight: -1 }));
    expect(weight.message).toMatch(/weight: must be at least 0/);
    const unknown = await errorOf(caller.nodes.decommission({ node: 'zk9' }));
    expect(unknown.code).toBe('NOT_FOUND');
    const conflict = await errorOf(caller.nodes.cancelDecommission({ node: 'zk1' }));
    expect(conflict.code).toBe('CONFLICT');
    expect(await caller.nodes.lifecycle()).toEqual(before);
  });

  it('streams lifecycle changes: a node added shows up as active on the subscription', async () => {
    const ac = new AbortController();
    const sub = createCaller(createContextInner({ services: t.services }), { signal: ac.signal });
    const it = (await sub.nodes.onLifecycle())[Symbol.asyncIterator]();
    const first = await it.next();
    expect(JSON.stringify(first.value)).toContain('"zk1"');
    await caller.nodes.addStorageNode({ node: 'store4', capacityBytes: 10 * 1024 * 1024 });
    let seen = false;
    for (let i = 0; i < 5 && !seen; i++) {
      const next = await it.next();
      seen = JSON.stringify(next.value).includes('"node":"store4","lifecycle":"active"');
    }
    ac.abort();
    expect(seen).toBe(true);
  });
});

describe('capacity procedures', () => {
  it('answers a recommendation with its figures, records samples, and validates its inputs', async () => {
    const { recommendation, recorded } = await caller.capacity.sample();
    expect(recorded).toBe(true);
    expect(['scale_up', 'scale_down', 'no_action']).toContain(recommendation.action);
    expect(recommendation).toMatchObject({ targetUtilization: 0.7, band: 0.1, samples: 1 });
    expect(recommendation.nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk3', 'store4']);
    expect(await caller.capacity.samples()).toHaveLength(1);
    expect((await caller.capacity.history()).length).toBe(1);
    const bad = await errorOf(caller.capacity.samples({ since: 'yesterday', limit: 5 }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.message).toMatch(/since must be an ISO-8601 timestamp/);
  });
});

describe('migrations.caps', () => {
  it('reports the live adaptive flag, as setAdaptive left it', async () => {
    expect((await caller.migrations.caps()).adaptive).toBe(false);
    await caller.migrations.setAdaptive({ enabled: true });
    expect((await caller.migrations.caps()).adaptive).toBe(true);
    expect((await caller.migrations.progress()).adaptive).toBe(true);
    await caller.migrations.setAdaptive({ enabled: false });
    expect((await caller.migrations.caps()).adaptive).toBe(false);
  });
});
