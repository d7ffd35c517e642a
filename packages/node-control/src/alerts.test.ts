/**
 * docker/prometheus/alerts.yml: promtool accepts it, its unit tests (alerts.test.yml, synthetic series) pass, it
 * covers the alerts the deployment promises, and every metric it names is one zkha exports.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { Metrics, type MetricsSources } from '@zkha/services';

import { expositionNames, promqlMetricNames } from '../test/promql.ts';
import { ensureDebianPackage } from '../test/system-packages.ts';

const PROM_DIR = fileURLToPath(new URL('../../../docker/prometheus/', import.meta.url));
const PROMTOOL = '/usr/bin/promtool';

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: PROM_DIR, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('alert rules', () => {
  it('promtool check rules and promtool test rules pass', () => {
    ensureDebianPackage(PROMTOOL, 'prometheus');
    const check = promtool('check', 'rules', 'alerts.yml');
    expect(check.output).toMatch(/SUCCESS: 8 rules found/);
    expect(check.status).toBe(0);
    const test = promtool('test', 'rules', 'alerts.test.yml');
    expect(test.output).toMatch(/SUCCESS/);
    expect(test.status).toBe(0);
  });

  it('covers quorum, servers, stores, leader changes, capacity, failed migrations, a stuck scheduler and the control plane; each alert has a unit test', () => {
    const rules = fs.readFileSync(path.join(PROM_DIR, 'alerts.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(PROM_DIR, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]!);
    expect(alerts).toEqual([
      'ZookeeperQuorumLost',
      'ZookeeperServerDown',
      'ZookeeperFrequentLeaderChanges',
      'StorageNodeOffline',
      'CapacityForecastUnderAWeek',
      'MigrationsFailing',
      'SchedulerStuck',
      'ControlPlaneNoLeader',
    ]);
    for (const a of alerts)
      expect(tests, `${a} has no unit test that expects it to fire`).toMatch(
        new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      );
  });

  it('names only metrics zkha exports', () => {
    const sources = new Proxy({}, { get: () => () => [] }) as unknown as MetricsSources;
    const exported = new Set<string>();
    for (const m of new Metrics(sources).registry.getMetricsAsArray() as unknown as { name: string; type: string }[])
      for (const n of expositionNames(m.name, m.type)) exported.add(n);
    const rules = fs.readFileSync(path.join(PROM_DIR, 'alerts.yml'), 'utf8');
    const used = [...rules.matchAll(/^\s+expr: (.+)$/gm)].flatMap((m) => promqlMetricNames(m[1]!));
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });
});
