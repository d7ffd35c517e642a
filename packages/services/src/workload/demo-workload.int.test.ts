import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fourLetterWord, ZkSession } from '@zkha/zk';

import { createTestServices, type TestServices } from '../testing.ts';

/** The demo workload against a real ensemble, database and folder, driven tick by tick (no timers waited on). */
describe('demo workload', () => {
  let t: TestServices;
  const opened: ZkSession[] = [];
  beforeAll(async () => {
    t = await createTestServices({
      services: {
        demoWorkload: { enabled: false, intervalSec: 3600, maxFiles: 5, maxBytes: 64 * 1024, minSizeKb: 2, maxSizeKb: 8, extraClients: 2 },
        connectClient: async () => {
          const s = await ZkSession.connect(t.ensemble.connectionString, { sessionTimeout: 6000 });
          opened.push(s);
          return s;
        },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is off unless asked, and holds no sessions while off', () => {
    expect(t.services.demo.state()).toMatchObject({ enabled: false, running: false, clientsHeld: 0, filesOwned: 0 });
  });

  it('uploads its own files each tick, stays within its bounds, and never deletes files it did not create', async () => {
    const { demo, workload, files } = t.services;
    await workload.stress({ node: 'zk1', files: 3, sizeKb: 1, triggerScheduler: false });
    for (let i = 0; i < 12; i++) await demo.tick();
    const state = demo.state();
    expect(state.ticks).toBe(12);
    expect(state.filesOwned).toBeGreaterThan(0);
    expect(state.filesOwned).toBeLessThanOrEqual(5);
    expect(state.bytesOwned).toBeLessThanOrEqual(64 * 1024);
    // The operator's three stress files are all still there.
    const all = files.list({ limit: 500, offset: 0 }).items;
    expect(all.filter((f) => !f.name.startsWith('wl-'))).toHaveLength(3);
    const ticks = t.services.operations.list({ action: 'workload_tick', limit: 50 });
    expect(ticks.items).toHaveLength(12);
    expect(ticks.items.every((o) => o.status === 'success')).toBe(true);
    expect(ticks.items.some((o) => (o.details.removed as number) > 0)).toBe(true);
  });

  it('walks tasks from queued to done or failed', async () => {
    await new Promise((r) => setTimeout(r, 5_500));
    const counts = t.services.workload.taskCounts();
    expect((counts.done ?? 0) + (counts.failed ?? 0)).toBeGreaterThanOrEqual(12);
  });

  it('start holds the extra sessions (the servers count them), stop releases them', async () => {
    const { demo } = t.services;
    // The servers' own list of connections (`cons`) names each session the workload holds.
    const cons = async () => (await Promise.all(t.ensemble.nodes.map((n) => fourLetterWord('127.0.0.1', n.clientPort, 'cons')))).join('\n');
    const started = await demo.start();
    expect(started).toMatchObject({ enabled: true, running: true, clientsHeld: 2 });
    const held = opened.slice(-2);
    const listed = await cons();
    for (const s of held) expect(listed).toContain(`sid=0x${BigInt(`0x${s.client.sessionId}`).toString(16)}`);
    const stopped = await demo.stop();
    expect(stopped).toMatchObject({ enabled: false, running: false, clientsHeld: 0 });
    expect(held.every((s) => s.state === 'closed')).toBe(true);
    const ops = t.services.operations.list({ limit: 5 }).items.map((o) => o.action);
    expect(ops).toEqual(expect.arrayContaining(['workload_start', 'workload_stop']));
  });

  it('reconfigure checks its bounds', async () => {
    await expect(t.services.demo.configure({ minSizeKb: 100, maxSizeKb: 10 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect((await t.services.demo.configure({ maxFiles: 2 })).maxFiles).toBe(2);
  });
});
