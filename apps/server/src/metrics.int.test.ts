/**
 * The metric families beyond the seed's gauges, read from a real server's /metrics after real traffic, and
 * `promtool check metrics` over the whole page: nothing to say about zkha's own names except the seed's legacy ones.
 */
import { execFileSync, spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureDebianPackage } from '@zkha/node-control/testing';

import { bootTestServer, type TestServer } from './testing.ts';

let t: TestServer;
beforeAll(async () => {
  t = await bootTestServer();
});
afterAll(async () => {
  await t?.close();
});

const metrics = async () => (await fetch(`${t.url}/metrics`)).text();
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/**
 * The seed's names, kept as the seed's dashboards and scripts know them; promtool's naming advice for them (no unit
 * suffix on latencies, counters without _total) is expected and left alone.
 */
const LEGACY = /^zk_demo_/;
/** prom-client's default Node.js gauges (under our prefix), named by the library, not by us. */
const LIBRARY = /^zkha_nodejs_active_(handles|requests|resources)_total /;

describe('/metrics', () => {
  it('has the queue, load, capacity, ensemble, request and leadership families, with values from real traffic', async () => {
    await fetch(`${t.url}/api/demo/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk1', files: 12, size_kb: 4, trigger_scheduler: false }),
    });
    await fetch(`${t.url}/api/scheduler/diagnostics`);
    await fetch(`${t.url}/trpc/nodes.summary`);
    await fetch(`${t.url}/api/no-such-route`);
    const run = (await (await fetch(`${t.url}/api/scheduler/run`, { method: 'POST' })).json()) as { queued: number };
    expect(run.queued).toBeGreaterThan(0);
    // A load score needs a probe or two of each server.
    await new Promise((r) => setTimeout(r, 1500));
    const text = await metrics();
    expect(value(text, 'zkha_http_request_duration_seconds_count{route="/api/scheduler/diagnostics",method="GET",code="200"}')).toBe(1);
    expect(value(text, 'zkha_http_request_duration_seconds_count{route="unmatched",method="GET",code="404"}')).toBe(1);
    expect(value(text, 'zkha_trpc_request_duration_seconds_count{procedure="nodes.summary",type="query",code="OK"}')).toBe(1);
    expect(value(text, 'zkha_migrations_completed_total')).toBe(run.queued);
    expect(value(text, 'zkha_migrations_pending')).toBe(0);
    expect(value(text, 'zkha_migration_moved_bytes_total')).toBe(run.queued * 4096);
    expect(value(text, 'zkha_ensemble_servers{role="participant"}')).toBe(3);
    expect(value(text, 'zkha_ensemble_config_version')).toBeGreaterThan(0);
    for (const node of ['zk1', 'zk2', 'zk3']) expect(value(text, `zkha_ensemble_load_score{node="${node}"}`)).toBeGreaterThanOrEqual(0);
    expect(value(text, 'zkha_ensemble_load_component_ratio{node="zk1",component="requests"}')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'zkha_capacity_used_bytes')).toBe(12 * 4096);
    expect(value(text, 'zkha_capacity_bytes')).toBeGreaterThan(0);
    expect(value(text, 'zkha_capacity_utilization_ratio')).toBeGreaterThan(0);
    expect(value(text, 'zkha_control_leader')).toBe(1);
    expect(value(text, 'zkha_rate_limited_total{surface="rest"}') ?? 0).toBe(0);
  });

  it("promtool check metrics: no complaint about zkha_* names (the seed's zk_demo_* names stay as they are)", async () => {
    ensureDebianPackage('/usr/bin/promtool', 'prometheus');
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: await metrics(), encoding: 'utf8' });
    const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    const ours = complaints.filter((l) => !LEGACY.test(l) && !LIBRARY.test(l));
    if (ours.length > 0) console.log(complaints.join('\n'));
    expect(ours).toEqual([]);
    console.log(
      `[figure] promtool check metrics: ${complaints.length} remarks, all on the seed's legacy names or prom-client's default gauges: ${[...new Set(complaints.map((l) => l.split(' ')[0]))].join(', ')}; promtool ${execFileSync('/usr/bin/promtool', ['--version'], { encoding: 'utf8' }).split('\n')[0]}`,
    );
  });
});
