/**
 * Static checks of the compose deployment in docker/ (images cannot be pulled on this machine, so the
 * deployment itself is not run here): every Grafana dashboard is valid dashboard JSON whose PromQL only
 * names metrics that exist (zkha's registry, ZooKeeper's list in docker/prometheus/zookeeper-metrics.txt,
 * or Prometheus' `up`), the provisioning matches the dashboards, and docker-compose.yml says what the
 * deployment guide says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { Metrics, type MetricsSources } from '@zkha/services';

import { dashboardExprs, expositionNames, promqlMetricNames, unknownDashboardMetrics } from '../test/promql.ts';

const DOCKER_DIR = fileURLToPath(new URL('../../../docker/', import.meta.url));
const DASHBOARD_DIR = path.join(DOCKER_DIR, 'grafana', 'dashboards');
const read = (...p: string[]) => fs.readFileSync(path.join(DOCKER_DIR, ...p), 'utf8');

/** Each service's text in a compose file, by name, in file order (the file is checked as text: see below). */
function serviceBlocks(compose: string): Map<string, string> {
  const services = compose.split(/\nservices:\n/)[1]!.split(/\nvolumes:\n/)[0]!;
  return new Map(
    services
      .split(/^(?= {2}[a-z0-9-]+:$)/m)
      .filter((block) => block.trim())
      .map((block) => [/^ {2}([a-z0-9-]+):$/m.exec(block)![1]!, block]),
  );
}

/** Names zkha exports at /metrics, read from the real registry (constructing Metrics collects nothing). */
function zkhaMetricNames(): Set<string> {
  // The sources are only read at scrape time; none is called here, so a stub of any shape will do.
  const sources = new Proxy({}, { get: () => () => [] }) as unknown as MetricsSources;
  const metrics = new Metrics(sources);
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray() as unknown as { name: string; type: string }[]) {
    for (const n of expositionNames(m.name, m.type)) names.add(n);
  }
  return names;
}

/** Names from docker/prometheus/zookeeper-metrics.txt (`<name> <type>` per line, # comments). */
function zookeeperMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const raw of read('prometheus', 'zookeeper-metrics.txt').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, type = 'gauge'] = line.split(/\s+/);
    for (const n of expositionNames(name!, type)) names.add(n);
  }
  return names;
}

// No YAML parser is installed in this repository (node_modules/yaml and js-yaml are absent), so the full
// parse of docker-compose.yml runs only where the `yaml` package is; the text checks run everywhere.
const YAML_PACKAGE = 'yaml';
const yamlParser = await import(/* @vite-ignore */ YAML_PACKAGE).then(
  (m: { parse: (s: string, options?: { merge?: boolean }) => unknown }) => m,
  () => null,
);

const known = new Set<string>([...zkhaMetricNames(), ...zookeeperMetricNames(), 'up']);
const dashboardFiles = fs
  .readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards = dashboardFiles.map((file) => ({
  file,
  json: JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Record<string, unknown>,
}));

/** The compose file's services, in order: the ensemble, one agent per storage node, two instances, monitoring. */
const COMPOSE_SERVICES = [
  'zk1',
  'zk2',
  'zk3',
  'agent-zk1',
  'agent-zk2',
  'agent-zk3',
  'zkha',
  'zkha-2',
  'prometheus',
  'alertmanager',
  'grafana',
];

describe('PromQL metric-name extraction', () => {
  it.each([
    ['zk_demo_files_per_node', ['zk_demo_files_per_node']],
    ['sum by (result) (rate(zk_demo_migrations_total[$__rate_interval])) * 60', ['zk_demo_migrations_total']],
    ['up{job="zookeeper", instance=~"zk.*"}', ['up']],
    ['rate(election_time_sum{job="zookeeper"}[5m]) / rate(election_time_count[5m])', ['election_time_sum', 'election_time_count']],
    ['sum(a) by (node) / on (node) group_left (x) b offset 5m', ['a', 'b']],
    ['count(leader_uptime) > bool 0 and max_latency{node="$node"} > 1e3', ['leader_uptime', 'max_latency']],
    ['label_replace(up, "x", "$1", "instance", "(.*)")', ['up']],
    ['histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))', ['x_bucket']],
  ])('%s → %j', (expr, names) => {
    expect(promqlMetricNames(expr)).toEqual(names);
  });
});

describe('Grafana dashboards in docker/grafana/dashboards', () => {
  it('there are the two dashboards, zkha.json and zookeeper.json', () => {
    expect(dashboardFiles).toEqual(['zkha.json', 'zookeeper.json']);
  });

  it.each(dashboards)(
    '$file is valid dashboard JSON: uid, title, schemaVersion, unique panel ids, grid positions, datasource by uid',
    ({ json }) => {
      expect(json.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(typeof json.title).toBe('string');
      expect(json.schemaVersion).toBeGreaterThanOrEqual(36);
      const panels = json.panels as Record<string, any>[];
      expect(panels.length).toBeGreaterThan(3);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const p of panels) {
        expect(typeof p.type).toBe('string');
        expect(p.gridPos).toMatchObject({ h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) });
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        expect(p.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
        expect(p.targets.length).toBeGreaterThan(0);
        const refIds = p.targets.map((t: { refId: string }) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
        for (const t of p.targets) expect(t.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
      }
    },
  );

  it('dashboard uids are distinct', () => {
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  it.each(dashboards)('every metric $file names is exported by zkha, listed in zookeeper-metrics.txt, or `up`', ({ json }) => {
    expect(dashboardExprs(json).length).toBeGreaterThan(5);
    expect(unknownDashboardMetrics(json, known)).toEqual([]);
  });

  it('the zkha dashboard covers files per node, delta vs threshold, migrations, node up, drained, tasks by status', () => {
    const zkha = dashboards.find((d) => d.file === 'zkha.json')!.json;
    const used = new Set(dashboardExprs(zkha).flatMap((e) => promqlMetricNames(e.expr)));
    for (const m of [
      'zk_demo_files_per_node',
      'zk_demo_scheduler_delta',
      'zk_demo_scheduler_threshold',
      'zk_demo_migrations_total',
      'zk_demo_node_up',
      'zk_demo_node_drained',
      'zk_demo_tasks_total',
    ]) {
      expect(used).toContain(m);
    }
  });

  it('the ZooKeeper dashboard covers up, leader, quorum size, latency, outstanding requests, znodes, connections, elections', () => {
    const zk = dashboards.find((d) => d.file === 'zookeeper.json')!.json;
    const used = new Set(dashboardExprs(zk).flatMap((e) => promqlMetricNames(e.expr)));
    for (const m of [
      'up',
      'leader_uptime',
      'quorum_size',
      'avg_latency',
      'max_latency',
      'min_latency',
      'outstanding_requests',
      'znode_count',
      'num_alive_connections',
      'election_time_count',
      'looking_count',
    ]) {
      expect(used).toContain(m);
    }
  });

  it('a dashboard naming a metric nobody exports is caught (bad sample)', () => {
    const bad = {
      panels: [
        { id: 1, title: 'ok', targets: [{ refId: 'A', expr: 'zk_demo_files_per_node' }] },
        { id: 2, title: 'typo', targets: [{ refId: 'A', expr: 'sum by (node) (rate(zk_demo_file_per_node[5m]))' }] },
        {
          id: 3,
          title: 'row',
          type: 'row',
          panels: [{ id: 4, title: 'nested', targets: [{ refId: 'A', expr: 'zookeeper_znode_count{job="zookeeper"}' }] }],
        },
      ],
    };
    expect(unknownDashboardMetrics(bad, known)).toEqual([
      { panel: 'typo', expr: 'sum by (node) (rate(zk_demo_file_per_node[5m]))', metric: 'zk_demo_file_per_node' },
      { panel: 'nested', expr: 'zookeeper_znode_count{job="zookeeper"}', metric: 'zookeeper_znode_count' },
    ]);
  });
});

describe('Grafana and Prometheus provisioning', () => {
  it('the datasource has the uid the dashboards use and points at the compose Prometheus', () => {
    const ds = read('grafana', 'provisioning', 'datasources', 'prometheus.yml');
    expect(ds).toMatch(/^\s+uid: prometheus$/m);
    expect(ds).toMatch(/^\s+type: prometheus$/m);
    expect(ds).toMatch(/^\s+url: http:\/\/prometheus:9090$/m);
  });

  it('the dashboard provider loads /var/lib/grafana/dashboards', () => {
    expect(read('grafana', 'provisioning', 'dashboards', 'zkha.yml')).toMatch(/^\s+path: \/var\/lib\/grafana\/dashboards$/m);
  });

  it('prometheus.yml scrapes zkha /metrics (job zkha) and every ZooKeeper on :7000 (job zookeeper)', () => {
    const prom = read('prometheus', 'prometheus.yml');
    expect(prom).toMatch(
      /job_name: zkha\n\s+metrics_path: \/metrics\n[\s\S]*?static_configs:\n\s+- targets: \['zkha:8080', 'zkha-2:8080'\]/,
    );
    // zkha wants a viewer token on /metrics beyond loopback: the compose file writes it to this file.
    expect(prom).toMatch(/authorization:\n\s+type: Bearer\n\s+credentials_file: \/prometheus\/zkha-token/);
    expect(prom).toMatch(/job_name: zookeeper/);
    for (const n of ['zk1', 'zk2', 'zk3']) expect(prom).toContain(`- targets: ['${n}:7000']`);
  });
});

describe('docker-compose.yml (static: images cannot be pulled here)', () => {
  const compose = read('docker-compose.yml');
  const control = read('docker-compose.control.yml');

  it('uses no tabs (YAML forbids them in indentation)', () => {
    expect(compose).not.toMatch(/\t/);
    expect(control).not.toMatch(/\t/);
  });

  it('runs zk1-zk3 on zookeeper:3.9.3 with ids, servers, the 4lw whitelist, the Prometheus provider on :7000 and TTL nodes', () => {
    expect(compose).toContain('image: zookeeper:3.9.3');
    for (const [i, n] of ['zk1', 'zk2', 'zk3'].entries()) {
      expect(compose).toMatch(
        new RegExp(
          `\\n  ${n}:\\n    <<: \\*zookeeper\\n[\\s\\S]*?ZOO_MY_ID: "${i + 1}"[\\s\\S]*?- "${2181 + i}:2181"\\n      - "${7001 + i}:7000"`,
        ),
      );
    }
    expect(compose).toContain('ZOO_SERVERS: server.1=zk1:2888:3888;2181 server.2=zk2:2888:3888;2181 server.3=zk3:2888:3888;2181');
    expect(compose).toContain('ZOO_4LW_COMMANDS_WHITELIST: "*"');
    // Grafana's admin password is the operator's to choose: compose refuses to start without one.
    expect(compose).not.toMatch(/GF_SECURITY_ADMIN_PASSWORD: admin\b/);
    expect(compose).toContain('GF_SECURITY_ADMIN_PASSWORD: ${ZKHA_GRAFANA_PASSWORD:?');
    expect(compose).toContain(
      'ZOO_CFG_EXTRA: "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider metricsProvider.httpPort=7000 extendedTypesEnabled=true"',
    );
  });

  it('builds zkha from docker/Dockerfile, on 8080, against the compose ensemble, with data and logs volumes', () => {
    expect(compose).toMatch(/zkha:\n {4}build:\n {6}context: \.\.\n {6}dockerfile: docker\/Dockerfile/);
    expect(compose).toContain('HOST: 0.0.0.0');
    // Beyond loopback zkha refuses to start without tokens: compose requires both secrets and hands Prometheus its own.
    expect(compose).toContain('API_TOKENS: "prometheus:viewer:${ZKHA_PROMETHEUS_TOKEN:?');
    expect(compose).toContain(',admin:operator:${ZKHA_ADMIN_TOKEN:?');
    expect(compose).toMatch(
      /prometheus:\n {4}image: [^\n]+\n {4}restart: [^\n]+\n {4}environment:\n {6}ZKHA_PROMETHEUS_TOKEN: \$\{ZKHA_PROMETHEUS_TOKEN:\?/,
    );
    expect(compose).toContain('> /prometheus/zkha-token && exec /bin/prometheus');
    expect(compose).toContain('ZK_NODES: zk1:2181,zk2:2181,zk3:2181');
    expect(compose).toContain('- "8080:8080"');
    expect(compose).toContain('- ./data:/app/data');
    expect(compose).toContain('- ./logs/zkha:/app/logs');
    const dockerfile = read('Dockerfile');
    // Multi-stage: npm ci on the manifests, the build, then a slim runtime with production dependencies only,
    // as a non-root user, with a healthcheck.
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([
      'node:20-bookworm',
      'node:20-bookworm',
      'node:20-bookworm-slim',
    ]);
    expect(dockerfile).toContain('RUN npm ci\n');
    expect(dockerfile).not.toContain('npm install');
    expect(dockerfile).toMatch(/npm run build \\\n && npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| 8080\) \+ '\/healthz'\)/m,
    );
    expect(dockerfile).toContain('CMD ["node", "apps/server/dist/main.mjs"]');
  });

  it('runs two zkha instances (zkha on 8080, zkha-2 on 8081) with one environment, each its own id, address and data', () => {
    const blocks = serviceBlocks(compose);
    const first = blocks.get('zkha')!;
    const second = blocks.get('zkha-2')!;
    expect(first).toContain('environment: &zkha-env');
    expect(first).toContain('INSTANCE_ID: zkha-1');
    expect(first).toContain('ADVERTISE_URL: http://zkha:8080');
    expect(first).toContain('CONSOLE_URL: http://localhost:8080');
    expect(second).toContain('image: zkha:local');
    expect(second).toContain('<<: *zkha-env');
    expect(second).toContain('INSTANCE_ID: zkha-2');
    expect(second).toContain('ADVERTISE_URL: http://zkha-2:8080');
    expect(second).toContain('CONSOLE_URL: http://localhost:8081');
    expect(second).toContain('- "8081:8080"');
    expect(second).toContain('- ./data-2:/app/data');
    expect(second).not.toContain('- ./data:/app/data');
  });

  it('runs Alertmanager on 9093 and has Prometheus load the alert rules and send to it', () => {
    const blocks = serviceBlocks(compose);
    expect(blocks.get('alertmanager')).toMatch(/image: prom\/alertmanager:/);
    expect(blocks.get('alertmanager')).toContain('- "9093:9093"');
    expect(blocks.get('alertmanager')).toContain('- ./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro');
    expect(blocks.get('prometheus')).toContain('- ./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    const prom = read('prometheus', 'prometheus.yml');
    expect(prom).toMatch(/rule_files:\n\s+- \/etc\/prometheus\/alerts\.yml/);
    expect(prom).toMatch(/alertmanagers:\n\s+- static_configs:\n\s+- targets: \['alertmanager:9093'\]/);
    expect(read('alertmanager', 'alertmanager.yml')).toMatch(/route:\n\s+receiver: zkha/);
  });

  it('mounts the Docker socket only in the opt-in control override, which also enables control', () => {
    expect(compose).not.toContain('docker.sock');
    expect(compose).toContain('DOCKER_CONTROL_ENABLED: "false"');
    expect(control).toContain('- /var/run/docker.sock:/var/run/docker.sock');
    expect(control).toContain('DOCKER_CONTROL_ENABLED: "true"');
  });

  it('runs Prometheus on 9090 and Grafana on 3000 with anonymous read-only access and the provisioning mounted', () => {
    expect(compose).toMatch(/image: prom\/prometheus:/);
    expect(compose).toContain('- "9090:9090"');
    expect(compose).toContain('- ./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose).toMatch(/image: grafana\/grafana:/);
    expect(compose).toContain('- "3000:3000"');
    expect(compose).toContain('GF_AUTH_ANONYMOUS_ENABLED: "true"');
    expect(compose).toContain('GF_AUTH_ANONYMOUS_ORG_ROLE: Viewer');
    expect(compose).toContain('- ./grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(compose).toContain('- ./grafana/dashboards:/var/lib/grafana/dashboards:ro');
  });

  // Storage nodes are separate hosts: each node's folder is its agent's alone, and zkha reaches the bytes
  // only through the agents' data API.
  it('runs one storage agent per storage node, each with its own named volume, and zkha mounts none of them', () => {
    const zkNodes = /\n {6}ZK_NODES: (\S+)\n/.exec(compose)![1]!.split(',');
    // Unnamed ZK_NODES entries are zk1, zk2, ... in order: those are the storage nodes.
    const nodes = zkNodes.map((_, i) => `zk${i + 1}`);
    const blocks = serviceBlocks(compose);
    const namedVolumes = [...compose.split(/\nvolumes:\n/)[1]!.matchAll(/^ {2}([a-z0-9-]+):$/gm)].map((m) => m[1]);
    const nodeVolumes = nodes.map((node) => {
      const agent = blocks.get(`agent-${node}`);
      expect(agent, `no agent service for storage node ${node}`).toBeDefined();
      expect(agent).toContain('<<: *agent');
      expect(agent).toContain(
        `command: zkha-agent --node ${node} --zk ${zkNodes.join(',')} --dir /data --listen 0.0.0.0:7071 --advertise agent-${node}:7071 --capacity \${ZKHA_NODE_CAPACITY:-10GiB}`,
      );
      const mounts = [...agent!.matchAll(/^ {6}- (\S+)$/gm)].map((m) => m[1]);
      expect(mounts).toEqual([`${node}-files:/data`]);
      return `${node}-files`;
    });
    expect(new Set(nodeVolumes).size).toBe(nodes.length);
    for (const v of nodeVolumes) expect(namedVolumes).toContain(v);
    for (const [name, block] of blocks) {
      const own = name.startsWith('agent-') ? [`${name.slice('agent-'.length)}-files`] : [];
      for (const v of nodeVolumes.filter((x) => !own.includes(x))) expect(block, `${name} mounts ${v}`).not.toContain(`- ${v}:`);
    }

    const anchor = compose.split('\nx-agent: &agent\n')[1]!.split('\nservices:\n')[0]!;
    expect(anchor).toContain('image: zkha:local'); // the image the zkha service builds
    expect(anchor).toContain('ZKHA_AGENT_TOKEN: ${ZKHA_AGENT_TOKEN:?');
    expect(anchor).toContain('ZKHA_ZK_AUTH: "zkha:${ZKHA_ZK_PASSWORD:?');
    expect(anchor).toContain(
      "fetch('http://127.0.0.1:7071/v1/usage', { headers: { authorization: 'Bearer ' + process.env.ZKHA_AGENT_TOKEN } })",
    );
    for (const zk of nodes) expect(anchor).toContain(`\n    ${zk}:\n      condition: service_healthy`);

    const zkha = blocks.get('zkha')!;
    expect(zkha).toContain('AGENTS_ENABLED: "false"');
    expect(zkha).toContain('AGENT_TOKEN: ${ZKHA_AGENT_TOKEN:?');
    expect(zkha).not.toContain('FILE_STORAGE_PATH');
    expect([...zkha.matchAll(/^ {6}- (\S+)$/gm)].map((m) => m[1]!).filter((m) => m.includes(':/'))).toEqual([
      './data:/app/data',
      './logs/zkha:/app/logs',
    ]);

    // The image puts `zkha-agent` on PATH, pointing at the agent package's bin.
    expect(read('Dockerfile')).toContain('ln -s /app/packages/agent/bin/zkha-agent.js /usr/local/bin/zkha-agent');
    const bin = path.join(DOCKER_DIR, '..', 'packages', 'agent', 'bin', 'zkha-agent.js');
    expect(fs.statSync(bin).mode & 0o111, `${bin} must be executable`).not.toBe(0);
  });

  it('every service has a healthcheck', () => {
    const services = compose.split(/\nservices:\n/)[1]!.split(/\nvolumes:\n/)[0]!;
    expect([...serviceBlocks(compose).keys()]).toEqual(COMPOSE_SERVICES);
    // zk1-3 inherit theirs from the x-zookeeper anchor, the agents from x-agent.
    expect(compose.split('\nx-zookeeper-env:')[0]).toContain('healthcheck:');
    expect(compose.split('\nx-agent: &agent\n')[1]!.split('\nservices:\n')[0]).toContain('healthcheck:');
    expect(services.match(/^ {4}healthcheck:$/gm)?.length).toBe(5);
  });

  it.skipIf(yamlParser === null)('parses as YAML into the expected services (needs the `yaml` package; skipped when absent)', () => {
    type Service = { volumes?: string[]; healthcheck?: unknown; command?: string };
    const doc = yamlParser!.parse(compose, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    expect(Object.keys(doc.services)).toEqual(COMPOSE_SERVICES);
    for (const [name, service] of Object.entries(doc.services)) expect(service.healthcheck, name).toBeDefined();
    for (const node of ['zk1', 'zk2', 'zk3']) {
      expect(doc.services[`agent-${node}`]!.volumes).toEqual([`${node}-files:/data`]);
      expect(doc.volumes).toHaveProperty(`${node}-files`);
    }
    expect(doc.services.zkha!.volumes).toEqual(['./data:/app/data', './logs/zkha:/app/logs']);
  });
});
