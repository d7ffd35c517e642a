/**
 * The compose deployment's Prometheus configuration against REAL processes: Debian's Prometheus (installed
 * when missing, as root) scrapes the REAL zkha server (boot + loadConfig, as `npm start` runs it, with an
 * embedded ensemble on free ports and temp data) through docker/prometheus/prometheus.yml adapted to local
 * ports, and its query API returns zk_demo_files_per_node for the three nodes with the values the server
 * holds. promtool also checks the checked-in file as it is.
 *
 * Runs only with `npm run test:prometheus` (vitest.prometheus.config.ts). Fails, never skips, when
 * Prometheus is missing and cannot be installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { getFreePortBlock } from '@zkha/zk-local/testing';

import { ensureDebianPackage, readTail } from '@zkha/node-control/testing';

import { bootTestServer, type TestServer } from './testing.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const COMPOSE_PROMETHEUS_YML = fileURLToPath(new URL('../../../docker/prometheus/prometheus.yml', import.meta.url));
const ALERTS_YML = fileURLToPath(new URL('../../../docker/prometheus/alerts.yml', import.meta.url));
const EXPECTED = { zk1: 5, zk2: 2, zk3: 0 } as const;

let dir: string;
let server: TestServer['server'] | null = null;
let stopServer: (() => Promise<void>) | null = null;
let prometheus: ChildProcess | null = null;
let prometheusExited: Promise<void> = Promise.resolve();
let prometheusUrl = '';
let prometheusLog = '';
const figures: Record<string, number> = {};
const SCRAPE_TOKEN = 'prometheus-scrape-token-0123456789';
const ADMIN_TOKEN = 'admin-operator-token-0123456789';

/**
 * docker/prometheus/prometheus.yml with local addresses: the zkha target becomes 127.0.0.1:<port>, the
 * scrape interval 1 s, and the zookeeper job is dropped (Debian's ZooKeeper build has no Prometheus
 * provider). Each edit must apply, so a reshaped file fails here rather than testing something else.
 */
export function adaptComposePrometheusConfig(text: string, zkhaTarget: string, tokenFile: string): string {
  const edits: [RegExp, string][] = [
    [/credentials_file: \/prometheus\/zkha-token/, `credentials_file: ${tokenFile}`],
    [/^(\s*scrape_interval:) 5s$/m, '$1 1s'],
    [/^(\s*scrape_timeout:) 4s$/m, '$1 1s'],
    // Both compose instances become the one server under test.
    [/\['zkha:8080', 'zkha-2:8080'\]/, `['${zkhaTarget}']`],
    [/\n\s*# ZooKeeper's Prometheus metrics provider[\s\S]*$/, '\n'],
    // The rules from the repository; no Alertmanager here.
    [/- \/etc\/prometheus\/alerts\.yml/, `- ${ALERTS_YML}`],
    [/\nalerting:\n[\s\S]*?\n(?=\n)/, '\n'],
  ];
  let out = text;
  for (const [re, replacement] of edits) {
    if (!re.test(out)) throw new Error(`docker/prometheus/prometheus.yml no longer matches ${String(re)}: update this test`);
    out = out.replace(re, replacement);
  }
  return out;
}

function promtoolCheck(file: string): { ok: boolean; output: string } {
  const res = spawnSync(PROMTOOL, ['check', 'config', file], { encoding: 'utf8' });
  return { ok: res.status === 0, output: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

interface QueryResult {
  status: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(q: string): Promise<QueryResult> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  return (await res.json()) as QueryResult;
}

beforeAll(async () => {
  ensureDebianPackage(PROMETHEUS, 'prometheus');
  ensureDebianPackage('/usr/share/java/zookeeper.jar', 'zookeeper');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-prom-'));

  const t0 = Date.now();
  // Nothing may move or add files behind the test's back: the counts are asserted exactly.
  // With tokens, as the compose deployment runs it: Prometheus scrapes with the viewer token, as compose sets it up.
  const booted = await bootTestServer({
    AUTO_SCHEDULER_ENABLED: 'false',
    DEMO_WORKLOAD_ENABLED: 'false',
    API_TOKENS: `prometheus:viewer:${SCRAPE_TOKEN},admin:operator:${ADMIN_TOKEN}`,
  });
  stopServer = booted.close;
  server = booted.server;
  figures.serverBootMs = Date.now() - t0;

  for (const [node, files] of Object.entries(EXPECTED)) {
    if (files === 0) continue;
    const res = await fetch(`${server.url}/api/demo/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ node, files, size_kb: 1, trigger_scheduler: false }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  const zkhaTarget = new URL(server.url).host;
  const promPort = await getFreePortBlock(1);
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  const configFile = path.join(dir, 'prometheus.yml');
  const tokenFile = path.join(dir, 'zkha-token');
  fs.writeFileSync(tokenFile, SCRAPE_TOKEN, { mode: 0o600 });
  fs.writeFileSync(configFile, adaptComposePrometheusConfig(fs.readFileSync(COMPOSE_PROMETHEUS_YML, 'utf8'), zkhaTarget, tokenFile));
  const checked = promtoolCheck(configFile);
  if (!checked.ok) throw new Error(`promtool rejects the adapted config:\n${checked.output}`);

  prometheusLog = path.join(dir, 'prometheus.log');
  const out = fs.openSync(prometheusLog, 'a');
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ];
  try {
    // setpriv --pdeathsig: Prometheus dies with the test process even if cleanup never runs.
    prometheus = fs.existsSync('/usr/bin/setpriv')
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'SIGTERM', PROMETHEUS, ...args], { stdio: ['ignore', out, out] })
      : spawn(PROMETHEUS, args, { stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const child = prometheus;
  prometheusExited = new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  figures.prometheusStartedAt = Date.now();
}, 300_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    const t0 = Date.now();
    prometheus.kill('SIGTERM');
    const done = await Promise.race([prometheusExited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) {
      prometheus.kill('SIGKILL');
      await prometheusExited;
    }
    figures.prometheusStopMs = Date.now() - t0;
  }
  await stopServer?.();
  if (dir && process.env.ZKHA_KEEP_TEST_DATA !== '1') fs.rmSync(dir, { recursive: true, force: true });
  delete figures.prometheusStartedAt;
  console.log(`[prometheus tier] measured: ${JSON.stringify(figures)}`);
});

describe("a real Prometheus scraping the real zkha server with the compose deployment's prometheus.yml", () => {
  it('promtool accepts docker/prometheus/prometheus.yml as checked in (its token file pointed at a local one)', () => {
    // promtool insists the credentials file exists; in compose the container writes it before Prometheus starts.
    const file = path.join(dir, 'as-checked-in.yml');
    const text = fs.readFileSync(COMPOSE_PROMETHEUS_YML, 'utf8');
    expect(text).toContain('credentials_file: /prometheus/zkha-token');
    // Likewise the rule file, mounted at /etc/prometheus/alerts.yml in compose.
    expect(text).toContain('- /etc/prometheus/alerts.yml');
    fs.writeFileSync(
      file,
      text
        .replace('credentials_file: /prometheus/zkha-token', `credentials_file: ${path.join(dir, 'zkha-token')}`)
        .replace('- /etc/prometheus/alerts.yml', `- ${ALERTS_YML}`),
    );
    const res = promtoolCheck(file);
    expect(res.ok, res.output).toBe(true);
  });

  it('the server itself says zk1=5, zk2=2, zk3=0 files (seeded through POST /api/demo/stress)', async () => {
    expect((await fetch(`${server!.url}/metrics`)).status).toBe(401); // tokens exist: no scrape without one
    const text = await (await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).text();
    for (const [node, n] of Object.entries(EXPECTED)) expect(text).toContain(`zk_demo_files_per_node{node="${node}"} ${n}`);
  });

  it('GET /api/v1/query?query=zk_demo_files_per_node returns the three node series with those values', async () => {
    const started = figures.prometheusStartedAt!;
    let last: QueryResult | null = null;
    let lastError = '';
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (prometheus?.exitCode !== null || prometheus?.signalCode !== null) {
        throw new Error(`prometheus exited (code ${prometheus?.exitCode}):\n${readTail(prometheusLog)}`);
      }
      try {
        last = await query('zk_demo_files_per_node');
        if (last.status === 'success' && last.data?.result.length === 3) break;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err); // not listening yet
      }
      await sleep(250);
    }
    figures.firstSeriesAfterPrometheusStartMs = Date.now() - started;
    expect(last, `no answer from Prometheus (${lastError}):\n${readTail(prometheusLog)}`).not.toBeNull();
    expect(last!.status).toBe('success');
    const byNode = Object.fromEntries(last!.data!.result.map((r) => [r.metric.node, Number(r.value[1])]));
    expect(byNode).toEqual(EXPECTED);
    for (const r of last!.data!.result) expect(r.metric).toMatchObject({ job: 'zkha', __name__: 'zk_demo_files_per_node' });
  });

  it('the zkha target is up, and other zk_demo_* series arrive too (nodes up, leader, threshold)', async () => {
    const up = await query('up{job="zkha"}');
    expect(up.data?.result.map((r) => r.value[1])).toEqual(['1']);
    const nodesUp = await query('sum(zk_demo_node_up)');
    expect(nodesUp.data?.result[0]?.value[1]).toBe('3');
    const leaders = await query('sum(zk_demo_zk_leader)');
    expect(leaders.data?.result[0]?.value[1]).toBe('1');
    const threshold = await query('zk_demo_scheduler_threshold');
    expect(threshold.data?.result[0]?.value[1]).toBe('5');
  });
});
