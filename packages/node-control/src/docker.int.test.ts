/**
 * DockerNodeController against a REAL Docker engine: Debian's dockerd started here as root on a private
 * socket (no bridge, no iptables), three containers zk1..zk3 running the host's Java + ZooKeeper (host
 * /usr and /etc bind-mounted read-only, --network host, free loopback ports), a quorum checked with
 * the four-letter words, then stop / start / restart / kill through the controller.
 *
 * Runs only with `npm run test:docker` (vitest.docker.config.ts). It fails, never skips, when the engine
 * cannot start (not root, dockerd missing and not installable): the error says why.
 */
import fs from 'node:fs';
import path from 'node:path';

import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isAppError, type ZkServerStats } from '@zkha/core';
import { probeEnsemble, type ProbeTarget } from '@zkha/zk';
import {
  DEFAULT_JAVA_OPTS,
  findJava,
  findZooKeeperClasspath,
  renderLog4jProperties,
  renderZooCfg,
  tailFile,
  type EnsembleNodeSpec,
} from '@zkha/zk-local';
import { getFreePorts } from '@zkha/zk-local/testing';

import {
  DOCKERD,
  ENGINE_RUNTIME_DIRS,
  importHostBaseImage,
  mountsUnder,
  processesMentioning,
  snapshotHostNetwork,
  startPrivateDockerEngine,
  type HostNetworkSnapshot,
  type PrivateDockerEngine,
} from '../test/docker-engine.ts';
import { ensureDebianPackage } from '../test/system-packages.ts';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, DockerNodeController } from './docker.ts';

const NODES = ['zk1', 'zk2', 'zk3'] as const;
const PROJECT = 'zkhait';
const figures: Record<string, number> = {};

let engine: PrivateDockerEngine | null = null;
let docker: Dockerode;
let ctl: DockerNodeController;
let networkBefore: HostNetworkSnapshot;
let runtimeDirsBefore: string[] = [];
let specs: EnsembleNodeSpec[] = [];
let targets: ProbeTarget[] = [];
const containerIds = new Map<string, string>();

async function assertAppError(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isAppError(err), `expected AppError ${code}, got ${String(err)}`).toBe(true);
  if (isAppError(err)) {
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  }
}

function logTails(): string {
  if (!engine) return '';
  return NODES.map(
    (n) => `--- ${n} ---\n${tailFile(path.join(engine!.baseDir, 'nodes', n, 'logs', 'zookeeper.log'), 12) || '(empty)'}`,
  ).join('\n');
}

/** Polls the 4lw probes of `names` until `ok` holds; returns the elapsed ms and the last stats. */
async function waitFor(
  names: readonly string[],
  ok: (stats: ZkServerStats[]) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<{ ms: number; stats: ZkServerStats[] }> {
  const t0 = Date.now();
  let stats: ZkServerStats[] = [];
  while (Date.now() - t0 < timeoutMs) {
    stats = await probeEnsemble(
      targets.filter((t) => names.includes(t.name)),
      500,
    );
    if (ok(stats)) return { ms: Date.now() - t0, stats };
    await new Promise((r) => setTimeout(r, 40));
  }
  const states = stats.map((s) => `${s.node}: ${s.up ? s.mode : `down (${s.error})`}`).join(', ');
  throw new Error(`${what} not reached within ${timeoutMs} ms (${states})\n${logTails()}`);
}

const leaderOf = (stats: ZkServerStats[]): string | null => {
  const leaders = stats.filter((s) => s.up && s.mode === 'leader');
  return leaders.length === 1 ? leaders[0]!.node : null;
};
/** One leader and every other listed node a follower. */
const quorumOf = (stats: ZkServerStats[]): boolean =>
  leaderOf(stats) !== null && stats.every((s) => s.up && (s.mode === 'leader' || s.mode === 'follower'));

async function currentLeader(): Promise<string> {
  const { stats } = await waitFor(NODES, quorumOf, 'a 3-node quorum');
  return leaderOf(stats)!;
}

beforeAll(async () => {
  const t0 = Date.now();
  ensureDebianPackage('/usr/share/java/zookeeper.jar', 'zookeeper');
  // Installed before the snapshot: on a fresh machine docker.io brings iptables with it, which the engine's start
  // would otherwise install after the snapshot, and the end state would differ ("iptables unavailable" before).
  ensureDebianPackage(DOCKERD, 'docker.io');
  networkBefore = snapshotHostNetwork();
  runtimeDirsBefore = ENGINE_RUNTIME_DIRS.filter((d) => fs.existsSync(d));
  engine = await startPrivateDockerEngine();
  figures.engineStartMs = Date.now() - t0;
  docker = engine.docker;

  const image = await importHostBaseImage(docker, engine.baseDir);

  // The host's java and jars are used inside the containers, so they must live under the bound /usr or /etc.
  const java = findJava();
  const classpath = findZooKeeperClasspath();
  const hostOnly = [java, ...classpath.split(':')].filter((p) => !/^\/(usr|etc)\//.test(fs.realpathSync(p)));
  if (hostOnly.length > 0) throw new Error(`these are outside /usr and /etc, so invisible in the containers: ${hostOnly.join(', ')}`);

  const ports = await getFreePorts(NODES.length * 4);
  specs = NODES.map((name, i) => ({
    name,
    id: i + 1,
    clientPort: ports[i * 4]!,
    quorumPort: ports[i * 4 + 1]!,
    electionPort: ports[i * 4 + 2]!,
    adminPort: ports[i * 4 + 3]!,
  }));
  targets = specs.map((s) => ({ name: s.name, host: '127.0.0.1', port: s.clientPort }));

  for (const spec of specs) {
    const dir = path.join(engine.baseDir, 'nodes', spec.name);
    const [conf, data, logs] = ['conf', 'data', 'logs'].map((d) => path.join(dir, d)) as [string, string, string];
    for (const d of [conf, data, logs]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(data, 'myid'), `${spec.id}\n`);
    fs.writeFileSync(
      path.join(conf, 'zoo.cfg'),
      renderZooCfg(spec, specs, { host: '127.0.0.1', dataDir: '/data', tickTime: 2000, extraConfig: { forceSync: 'no' } }),
    );
    fs.writeFileSync(path.join(conf, 'log4j.properties'), renderLog4jProperties('/logs'));

    const container = await docker.createContainer({
      name: `${PROJECT}-${spec.name}-1`,
      Image: image,
      Labels: { [COMPOSE_PROJECT_LABEL]: PROJECT, [COMPOSE_SERVICE_LABEL]: spec.name, 'zkha.test': 'docker-int' },
      WorkingDir: '/data',
      Cmd: [
        java,
        ...DEFAULT_JAVA_OPTS,
        '-Dzookeeper.log.dir=/logs',
        '-Dzookeeper.log.file=zookeeper.log',
        '-Dlog4j.configuration=file:/zk/log4j.properties',
        '-Dzookeeper.jmx.log4j.disable=true',
        '-cp',
        `/zk:${classpath}`,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        '/zk/zoo.cfg',
      ],
      HostConfig: {
        NetworkMode: 'host',
        Binds: ['/usr:/usr:ro', '/etc:/etc:ro', `${conf}:/zk:ro`, `${data}:/data`, `${logs}:/logs`],
      },
    });
    containerIds.set(spec.name, container.id);
  }
  const t1 = Date.now();
  await Promise.all([...containerIds.values()].map((id) => docker.getContainer(id).start()));
  await waitFor(NODES, quorumOf, 'a 3-node quorum', 60_000);
  figures.quorumAfterStartMs = Date.now() - t1;

  ctl = new DockerNodeController({ socketPath: engine.socketPath, nodes: [...NODES], project: PROJECT, stopTimeoutSec: 5 });
}, 300_000);

afterAll(async () => {
  // Normally the last test has stopped everything; this is the safety net when an earlier step failed.
  if (engine) {
    for (const id of containerIds.values())
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    await engine.stop().catch(() => undefined);
  }
  console.log(`[docker tier] measured: ${JSON.stringify(figures)}`);
});

describe('DockerNodeController on a real Docker engine (private dockerd, 3 ZooKeeper containers, --network host)', () => {
  it('the engine is real: Docker answers its version and lists the three labelled containers', async () => {
    const version = await docker.version();
    expect(version.ApiVersion).toMatch(/^1\.\d+$/);
    const listed = await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT_LABEL}=${PROJECT}`] } });
    expect(listed.map((c) => c.Labels[COMPOSE_SERVICE_LABEL]).sort()).toEqual([...NODES]);
  });

  it('status of all three: running, with the host PID of the JVM and the container id found by compose labels', async () => {
    for (const node of NODES) {
      const s = await ctl.status(node);
      expect(s).toMatchObject({ node, state: 'running', containerId: containerIds.get(node), exitCode: null });
      expect(s.pid).toBeGreaterThan(1);
      // The PID is the host's view of the container's JVM.
      expect(fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8')).toContain('QuorumPeerMain');
    }
  });

  it('stop of the leader: the container exits 143 (SIGTERM) and the other two elect a new leader', async () => {
    const leader = await currentLeader();
    const others = NODES.filter((n) => n !== leader);
    const t0 = Date.now();
    await ctl.stop(leader);
    figures.stopLeaderCallMs = Date.now() - t0;
    const { stats } = await waitFor(others, quorumOf, 'a new leader among the other two');
    figures.stopLeaderToNewLeaderMs = Date.now() - t0;
    expect(others).toContain(leaderOf(stats));

    const s = await ctl.status(leader);
    expect(s).toMatchObject({ state: 'stopped', exitCode: 143, pid: null });
    expect(s.detail).toMatch(/^exited \(143\)/);

    // Stopping a stopped container: Docker answers 304, which is success.
    await ctl.stop(leader);
    expect((await ctl.status(leader)).state).toBe('stopped');

    // Start it again: it rejoins as a follower of the new leader.
    const t1 = Date.now();
    await ctl.start(leader);
    const back = await waitFor(
      NODES,
      (st) => quorumOf(st) && st.find((x) => x.node === leader)?.mode === 'follower',
      `${leader} rejoined as follower`,
    );
    figures.startToRejoinedMs = Date.now() - t1;
    expect(leaderOf(back.stats)).toBe(leaderOf(stats));
    expect((await ctl.status(leader)).state).toBe('running');

    // Starting a running container: 304 again, success.
    await ctl.start(leader);
    expect((await ctl.status(leader)).state).toBe('running');
  });

  it('restart of a follower: a new JVM (new PID) that is back as follower, leader unchanged', async () => {
    const leader = await currentLeader();
    const follower = NODES.find((n) => n !== leader)!;
    const before = await ctl.status(follower);
    const t0 = Date.now();
    await ctl.restart(follower);
    figures.restartCallMs = Date.now() - t0;
    const after = await ctl.status(follower);
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    const { stats } = await waitFor(
      NODES,
      (st) => quorumOf(st) && st.find((x) => x.node === follower)?.mode === 'follower',
      `${follower} back`,
    );
    figures.restartToBackMs = Date.now() - t0;
    expect(leaderOf(stats)).toBe(leader);
  });

  it('kill (SIGKILL) of the leader: exit code 137, a new leader, killing again is not an error, and it comes back', async () => {
    const leader = await currentLeader();
    const others = NODES.filter((n) => n !== leader);
    const t0 = Date.now();
    await ctl.kill(leader);
    figures.killCallMs = Date.now() - t0;
    await waitFor(others, quorumOf, 'a new leader after SIGKILL');
    figures.killToNewLeaderMs = Date.now() - t0;

    // The kill returns before Docker has recorded the exit: wait for it.
    let s = await ctl.status(leader);
    for (let i = 0; i < 100 && s.state !== 'stopped'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await ctl.status(leader);
    }
    expect(s).toMatchObject({ state: 'stopped', exitCode: 137 });

    await ctl.kill(leader); // 409 "is not running": nothing left to kill, not an error
    await ctl.start(leader);
    await waitFor(NODES, quorumOf, 'all three back after the kill');
  });

  it('errors say what was wrong: unknown node, a container that does not exist, an unreachable socket', async () => {
    await assertAppError(ctl.stop('zk9'), 'NODE_NOT_FOUND', /unknown node "zk9"/);
    const wrongProject = new DockerNodeController({ socketPath: engine!.socketPath, nodes: ['zk1', 'zk4'], project: 'other' });
    await assertAppError(
      wrongProject.stop('zk4'),
      'NODE_NOT_FOUND',
      /no container found \(looked for a container labelled com\.docker\.compose\.service=zk4, com\.docker\.compose\.project=other or named zk4 \/ other-zk4-1 \/ other_zk4_1 at unix:\/\//,
    );
    expect((await wrongProject.status('zk4')).state).toBe('unknown');
    // Another project's zk1 (label project=zkhait, name zkhait-zk1-1) is not this controller's zk1.
    expect((await wrongProject.status('zk1')).state).toBe('unknown');

    const gone = new DockerNodeController({ socketPath: path.join(engine!.baseDir, 'nope.sock'), nodes: ['zk1'] });
    await assertAppError(gone.start('zk1'), 'NOT_SUPPORTED', /cannot reach the Docker engine at unix:\/\/.*nope\.sock/);
  });

  it('containers without compose labels are found by name', async () => {
    const bare = await docker.createContainer({
      name: 'zk7',
      Image: 'zkha-host-base:latest',
      Cmd: ['/usr/bin/true'],
      HostConfig: { NetworkMode: 'host', Binds: ['/usr:/usr:ro', '/etc:/etc:ro'] },
    });
    containerIds.set('zk7', bare.id);
    const byName = new DockerNodeController({ socketPath: engine!.socketPath, nodes: ['zk7'] });
    expect(await byName.status('zk7')).toMatchObject({ state: 'stopped', containerId: bare.id, detail: 'created, never started' });
    await byName.start('zk7');
    let s = await byName.status('zk7');
    for (let i = 0; i < 100 && s.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      s = await byName.status('zk7');
    }
    expect(s).toMatchObject({ state: 'stopped', exitCode: 0 });
  });

  it('shutting the engine down leaves no container, process, mount, bridge or iptables rule behind', async () => {
    const e = engine!;
    for (const id of containerIds.values()) await docker.getContainer(id).remove({ force: true });
    containerIds.clear();
    expect(await docker.listContainers({ all: true })).toEqual([]);

    const { stopMs, unmounted } = await e.stop();
    figures.engineStopMs = stopMs;
    figures.mountsLeftByDockerd = unmounted.length;
    engine = null;

    expect(processesMentioning(e.baseDir)).toEqual([]);
    expect(processesMentioning('QuorumPeerMain').filter((p) => p.cmd.includes('/zk/zoo.cfg'))).toEqual([]);
    expect(mountsUnder(e.baseDir)).toEqual([]);
    expect(fs.existsSync(e.baseDir)).toBe(false);
    expect(ENGINE_RUNTIME_DIRS.filter((d) => fs.existsSync(d))).toEqual(runtimeDirsBefore);
    expect(fs.existsSync('/sys/class/net/docker0')).toBe(false);
    const after = snapshotHostNetwork();
    expect(after.links).toEqual(networkBefore.links);
    expect(after.iptables).toBe(networkBefore.iptables);
  });
});
