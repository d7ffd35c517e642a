/**
 * The control plane the migration bench measures, wired as apps/server/src/boot.ts wires it (real ensemble, agent
 * processes, SQLite file, services), with the engine's calls out to the agents and to ZooKeeper timed by wrappers
 * that only measure, and the CPU time of every process read from /proc.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Caps } from '@zkha/core';
import { AgentSupervisor, STORES_ROOT } from '@zkha/agent';
import { createDb } from '@zkha/db';
import { AgentDirectory, createServices, type Services } from '@zkha/services';
import { TEST_ZK_AUTH } from '@zkha/services/testing';
import { AgentStorage, type FileStoragePort, type TPullResult } from '@zkha/storage';
import { probeEnsemble, ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

export const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used so far, from /proc; null once it is gone. */
export function cpuSeconds(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return null;
  }
}

/** Calls, total and longest wall time of one kind of call. */
class Timing {
  calls = 0;
  totalMs = 0;
  maxMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    this.calls++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await fn();
    } finally {
      this.inFlight--;
      const ms = performance.now() - t0;
      this.totalMs += ms;
      this.maxMs = Math.max(this.maxMs, ms);
    }
  }
  toString(): string {
    return this.calls === 0
      ? '-'
      : `${this.calls} calls, ${fmtS(this.totalMs)} in all, ${Math.round(this.totalMs / this.calls)} ms mean, ${Math.round(this.maxMs)} ms max, ${this.maxInFlight} at once`;
  }
}

/** What the wrappers saw of the engine's calls: they time and count, and change nothing. */
interface Probe {
  pull: Timing;
  deleteMany: Timing;
  putMany: Timing;
  pulledFiles: number;
  linkedFiles: number;
  /** Bytes the targets said they read from the source (linked files count none). */
  pulledBytes: number;
  /** The pulls' own figure: the target's time for each batch, summed. */
  targetMs: number;
}

/** The storage port the engine uses, with its pulls and deletes timed. */
function probedStorage(inner: AgentStorage, probe: Probe): FileStoragePort {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'pull') {
        return async (...args: Parameters<FileStoragePort['pull']>): Promise<TPullResult> => {
          const res = await probe.pull.time(() => target.pull(...args));
          probe.pulledFiles += res.results.filter((r) => r.ok).length;
          probe.linkedFiles += res.linked ?? 0;
          probe.pulledBytes += res.bytes;
          probe.targetMs += res.elapsedMs;
          return res;
        };
      }
      if (key === 'deleteMany')
        return (...args: Parameters<FileStoragePort['deleteMany']>) => probe.deleteMany.time(() => target.deleteMany(...args));
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export interface Plane {
  services: Services;
  ensemble: TestEnsemble;
  agents: AgentSupervisor;
  storage: AgentStorage;
  probe: Probe;
  dir: string;
  nodes: string[];
  /** The data API URL each agent registered (its alive znode's dataUrl). */
  urls: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The control plane as apps/server/src/boot.ts wires it: a ZooKeeper ensemble, one agent process per node under
 * AgentSupervisor (each with its own session on its own server), AgentStorage finding the agents through
 * AgentDirectory, and createServices over a SQLite file, started (probes, liveness, capacity sampling) as in
 * production. The automatic scheduler is off: the bench enqueues the plan itself.
 */
export async function startPlane(root: string, name: string, migrations: { caps: Partial<Caps>; sameHostLinks: boolean }): Promise<Plane> {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };
  try {
    const ensemble = await startTestEnsemble({ size: 3, baseDir: path.join(dir, 'zk') });
    cleanups.push(() => ensemble.stop());
    const members = ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
    const nodes = members.map((m) => m.name);
    const agents = new AgentSupervisor({
      agents: members.map((m) => ({
        node: m.name,
        zk: `${m.host}:${m.port}`,
        folder: path.join(dir, 'uploads', m.name),
        logFile: path.join(dir, 'logs', m.name, 'agent.log'),
      })),
      sessionTimeoutMs: 4000,
      heartbeatIntervalMs: 2000,
      restartDelayMs: 1000,
      zkAuth: TEST_ZK_AUTH,
      dataApi: { host: '127.0.0.1' },
    });
    agents.startAll();
    cleanups.push(() => agents.stopAll());
    const database = createDb(path.join(dir, 'zkha.db'));
    cleanups.push(() => database.close());
    const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 10_000, auth: TEST_ZK_AUTH });
    cleanups.push(() => session.close());
    const t0 = Date.now();
    while (!(await Promise.all(nodes.map((n) => session.client.exists(`${STORES_ROOT}/${n}/alive`)))).every(Boolean)) {
      if (Date.now() - t0 > 60_000) throw new Error(`the agents did not register within 60 s (logs under ${path.join(dir, 'logs')})`);
      await sleep(100);
    }
    const directory = new AgentDirectory(session);
    const urls: Record<string, string> = {};
    for (const n of nodes) urls[n] = (await directory.endpoint(n)) ?? '';
    const storage = new AgentStorage({
      token: agents.dataToken!,
      endpoint: (node) => directory.endpoint(node),
      spoolDir: path.join(dir, 'spool'),
    });
    cleanups.push(() => storage.close());
    const probe: Probe = {
      pull: new Timing(),
      deleteMany: new Timing(),
      putMany: new Timing(),
      pulledFiles: 0,
      linkedFiles: 0,
      pulledBytes: 0,
      targetMs: 0,
    };
    const services = createServices({
      db: database.db,
      storage: probedStorage(storage, probe),
      session,
      members,
      localEnsemble: ensemble,
      liveness: { reconcileIntervalMs: 30_000 },
      probe: (m) => probeEnsemble(m),
      probeIntervalMs: 1000,
      scheduler: { enabled: false, intervalSec: 15, threshold: 5 },
      migrations,
    });
    // The engine's ZooKeeper round trips (one round of multis per batch), timed the same way.
    const putMany = services.metadata.putMany.bind(services.metadata);
    services.metadata.putMany = (files) => probe.putMany.time(() => putMany(files));
    await services.init();
    await services.start();
    cleanups.push(() => services.stop());
    return { services, ensemble, agents, storage, probe, dir, nodes, urls, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Creates files on one node through the control plane (agent PUT, SQLite row, znode), a few jobs at once. */
export async function seed(services: Services, node: string, files: number, sizeKb: number, jobs = 4): Promise<number> {
  const t0 = performance.now();
  const per = Math.ceil(files / jobs);
  await Promise.all(
    Array.from({ length: jobs }, (_, j) => Math.min(per, files - j * per))
      .filter((n) => n > 0)
      .map(async (n) => {
        for (let done = 0; done < n; done += 1000)
          await services.workload.stress({ node, files: Math.min(1000, n - done), sizeKb, triggerScheduler: false });
      }),
  );
  return performance.now() - t0;
}

/** CPU seconds of every process involved: this one (the control plane), each agent, each ZooKeeper server. */
export function cpuNow(plane: Plane): { self: number; agents: number; zk: number } {
  const self = process.cpuUsage();
  return {
    self: (self.user + self.system) / 1e6,
    agents: plane.nodes.reduce((s, n) => s + (cpuSeconds(plane.agents.pid(n)) ?? 0), 0),
    zk: plane.nodes.reduce((s, n) => s + (cpuSeconds(plane.ensemble.pid(n)) ?? 0), 0),
  };
}
