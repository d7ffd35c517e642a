/**
 * The README's "Try it" commands and the seed's worked example, sent over REST exactly as a person would send
 * them to a server in its default configuration (whole-plan mode, count strategy, threshold 5), reading what
 * comes back. A test like this would have caught "diagnostics say moving, run queues nothing".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from './testing.ts';

let t: TestServer;

beforeAll(async () => {
  t = await bootTestServer(); // no SCHEDULER_* override: the defaults a fresh `npm start` runs with
});

afterAll(async () => {
  await t?.close();
});

async function api(method: string, p: string, body?: unknown) {
  const res = await fetch(`${t.url}${p}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Record<string, any>, text };
}

const spread = (counts: Record<string, number>) => Math.max(...Object.values(counts)) - Math.min(...Object.values(counts));
const migrationsTotal = async () => {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return [...text.matchAll(/^zk_demo_migrations_total\{[^}]*result="success"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
};

describe('the seed worked example over REST, default mode', () => {
  it('12 / 5 / 4 files, threshold 5: diagnostics say what run then does, and the counts change', async () => {
    for (const [node, files] of [
      ['zk1', 12],
      ['zk2', 5],
      ['zk3', 4],
    ] as const) {
      expect((await api('POST', '/api/demo/stress', { node, files, size_kb: 4, trigger_scheduler: false })).status).toBe(200);
    }
    const config = await api('GET', '/api/scheduler/config');
    expect(config.json).toMatchObject({ mode: 'whole_plan', threshold: 5, strategy: 'count' });

    const diag = await api('GET', '/api/scheduler/diagnostics');
    expect(diag.json).toMatchObject({
      counts: { zk1: 12, zk2: 5, zk3: 4 },
      shouldMigrate: true,
      sourceNode: 'zk1',
      targetNode: 'zk3',
      delta: 8,
      threshold: 5,
      reason: 'ok',
      moves: 3,
    });
    expect(diag.json.message).toContain(`moving ${diag.json.candidate.name}`);
    const explain = Object.fromEntries((diag.json.nodes as { node: string; role: string; code: string }[]).map((n) => [n.node, n]));
    expect(explain.zk1).toMatchObject({ role: 'source', code: 'most_loaded' });
    expect(explain.zk3).toMatchObject({ role: 'target', code: 'least_loaded' });

    const migrationsBefore = await migrationsTotal();
    const run = await api('POST', '/api/scheduler/run');
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({ mode: 'whole_plan', executed: true, queued: 3, done: 3, pending: 0, failed: 0, error: null });
    expect(run.json.before.counts).toEqual({ zk1: 12, zk2: 5, zk3: 4 });
    expect(run.json.before.candidate.uuid).toBe(diag.json.candidate.uuid);
    expect(spread(run.json.after.counts)).toBeLessThan(5);
    expect(run.json.after.counts.zk1).toBe(9);
    expect(run.json.after).toMatchObject({ shouldMigrate: false, reason: 'below_threshold' });

    // Nothing keeps saying "will move": the diagnostics now agree there is nothing to do.
    const again = await api('GET', '/api/scheduler/diagnostics');
    expect(again.json).toMatchObject({ shouldMigrate: false, reason: 'below_threshold', candidate: null, moves: 0 });
    expect(again.json.message).toMatch(/^balanced: spread \d files?/);

    // Every move is counted: operations (one per batch, listing its moves) and the Prometheus counter.
    const ops = await api('GET', '/api/operations?action=auto_migrate&limit=50');
    const moved = (ops.json.items as { details: { count?: number } }[]).reduce((a, o) => a + (o.details.count ?? 1), 0);
    expect(moved).toBe(3);
    expect((await migrationsTotal()) - migrationsBefore).toBe(3);
    const second = await api('POST', '/api/scheduler/run', { wait_ms: 0 });
    expect(second.json).toMatchObject({ executed: false, queued: 0, done: 0, pending: 0 });
  });

  it('a run that does not wait says what is still pending, and a bad waitMs is refused with the reason', async () => {
    await api('POST', '/api/demo/stress', { node: 'zk2', files: 40, size_kb: 4, trigger_scheduler: false });
    const run = await api('POST', '/api/scheduler/run?waitMs=0');
    expect(run.json.mode).toBe('whole_plan');
    expect(run.json.queued).toBeGreaterThan(0);
    expect(run.json.done + run.json.pending + run.json.failed).toBe(run.json.queued);
    const bad = await api('POST', '/api/scheduler/run', { wait_ms: -1 });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/waitMs/);
  });
});

describe("the README's Try it, line by line", () => {
  it('stress, diagnostics, run, drain, undrain, overview and metrics answer what the README shows', async () => {
    const stress = await api('POST', '/api/demo/stress', { node: 'zk1', files: 12, size_kb: 128, trigger_scheduler: false });
    expect(stress.json).toMatchObject({ created: 12, node: 'zk1' });
    const diag = await api('GET', '/api/scheduler/diagnostics');
    expect(typeof diag.json.message).toBe('string');
    expect(diag.json.shouldMigrate).toBe(diag.json.moves > 0);
    const run = await api('POST', '/api/scheduler/run');
    expect(run.json.executed).toBe(diag.json.shouldMigrate);
    expect(run.json.after.shouldMigrate).toBe(false);
    if (run.json.executed) expect(run.json.after.counts).not.toEqual(run.json.before.counts);
    const drain = await api('POST', '/api/nodes/zk3/drain', { reason: 'disk swap' });
    expect(drain.json).toMatchObject({ node: 'zk3', drained: true, reason: 'disk swap' });
    const drained = await api('GET', '/api/scheduler/diagnostics');
    expect(drained.json.nodes.find((n: { node: string }) => n.node === 'zk3')).toMatchObject({ code: 'drained' });
    expect((await api('POST', '/api/nodes/zk3/undrain')).json).toMatchObject({ node: 'zk3', drained: false });
    expect((await api('GET', '/api/overview')).json.cluster).toMatchObject({ quorum: true });
    expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/^zk_demo_files_per_node\{node="zk1"\} \d+/m);
  });
});
