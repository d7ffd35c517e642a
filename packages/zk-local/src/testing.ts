/**
 * Test helpers for any package: free ports and a throwaway real ZooKeeper ensemble.
 *
 *   import { startTestEnsemble } from '@zkha/zk-local/testing';
 *   const zk = await startTestEnsemble();          // 3 nodes, ~1-2 s
 *   ... zk.connectionString ...
 *   await zk.stop();                               // also deletes zk.baseDir
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_JAVA_OPTS } from './java-install.ts';
import { startLocalEnsemble, type LocalEnsemble } from './local-ensemble.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';
import { isPortFree } from './ports.ts';

function bindEphemeral(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(srv));
  });
}

/**
 * `n` distinct free TCP ports on 127.0.0.1. All sockets are held open until every port is chosen,
 * so the kernel cannot hand out the same port twice. (Another process can still take a port
 * before the caller binds it; startLocalEnsemble detects that and says so.)
 */
export async function getFreePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await bindEphemeral());
    return servers.map((s) => {
      const addr = s.address();
      if (!addr || typeof addr === 'string') throw new Error('unexpected server address');
      return addr.port;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/**
 * The first port of a random block of `n` below the kernel's ephemeral range. A block inside that range is only
 * free when checked: any outgoing connection or listen(0) (ZooKeeper clients, storage agents) may take one of
 * its ports before a server added later binds it, which made ensemble-scaling tests fail with "port busy".
 */
export function randomPortBase(n: number): number {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // not Linux: keep the IANA default
  }
  const low = 10_000;
  const high = Math.max(low + 1_000, ephemeralLow - n);
  return low + Math.floor(Math.random() * (high - low));
}

/**
 * The first of `n` consecutive free ports on 127.0.0.1, for configurations that take a base port and add
 * the node index (the server's ZK_*_PORT_BASE settings).
 */
export async function getFreePortBlock(n: number): Promise<number> {
  return (await getFreePortBlocks(1, n))[0]!;
}

/**
 * `count` blocks of `size` consecutive free loopback ports that do not overlap (one server's HTTP port and its
 * ensemble's port bases, say). Another process can still take a port before it is bound; the blocks are
 * random to make that unlikely when several runs share the machine.
 */
export async function getFreePortBlocks(count: number, size: number, attempts = 500): Promise<number[]> {
  const taken = new Set<number>();
  const bases: number[] = [];
  for (let i = 0; bases.length < count && i < attempts; i++) {
    const base = randomPortBase(size);
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = !taken.has(p) && (await isPortFree('127.0.0.1', p));
    if (!ok) continue;
    for (let p = base; p < base + size; p++) taken.add(p);
    bases.push(base);
  }
  if (bases.length < count) throw new Error(`could not find ${count} free blocks of ${size} consecutive ports`);
  return bases;
}

export async function getFreePort(): Promise<number> {
  const [port] = await getFreePorts(1);
  if (port === undefined) throw new Error('no free port');
  return port;
}

export interface TestEnsembleOptions {
  /** Number of servers. Default 3. */
  size?: number;
  /** Where data and logs go; default a fresh folder under os.tmpdir(). Removed by stop() only when created here. */
  baseDir?: string;
  /** Default 2000 (the session timeout floor is 2 ticks). */
  tickTime?: number;
  /** Dynamic reconfiguration; default as startLocalEnsemble (on for 2+ nodes). */
  reconfig?: boolean;
  /** More JVM flags, after the defaults. */
  javaOpts?: string[];
  /** More zoo.cfg lines (a key given twice: the later one counts). */
  extraConfig?: Record<string, string | number | boolean>;
}

export type TestEnsemble = LocalEnsemble & { baseDir: string };

/**
 * Starts a real `size`-node ensemble on free ports with node names zk1..zkN and waits for the
 * quorum. `stop()` stops the JVMs and then deletes the temp folder (kept when `baseDir` was
 * given, or when ZKHA_KEEP_TEST_DATA=1 to read the logs after a failure).
 */
export async function startTestEnsemble(options: TestEnsembleOptions = {}): Promise<TestEnsemble> {
  const size = options.size ?? 3;
  const ownDir = options.baseDir === undefined;
  const baseDir = options.baseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-zk-'));
  const ports = await getFreePorts(size * 4);
  const nodes: EnsembleNodeSpec[] = Array.from({ length: size }, (_, i) => ({
    name: `zk${i + 1}`,
    id: i + 1,
    clientPort: ports[i * 4] as number,
    quorumPort: ports[i * 4 + 1] as number,
    electionPort: ports[i * 4 + 2] as number,
    adminPort: ports[i * 4 + 3] as number,
  }));

  let ensemble: LocalEnsemble;
  try {
    ensemble = await startLocalEnsemble({
      nodes,
      dataDir: path.join(baseDir, 'data'),
      logsDir: path.join(baseDir, 'logs'),
      tickTime: options.tickTime ?? 2000,
      quorumTimeoutMs: 60_000,
      // Test data is thrown away: skip fsync on every write (much faster on slow CI disks).
      extraConfig: { forceSync: 'no', ...options.extraConfig },
      ...(options.reconfig !== undefined ? { reconfig: options.reconfig } : {}),
      ...(options.javaOpts ? { javaOpts: [...DEFAULT_JAVA_OPTS, ...options.javaOpts] } : {}),
    });
  } catch (err) {
    if (ownDir && process.env.ZKHA_KEEP_TEST_DATA !== '1') fs.rmSync(baseDir, { recursive: true, force: true });
    throw err;
  }

  const originalStop = ensemble.stop.bind(ensemble);
  const testEnsemble = Object.assign(ensemble, {
    baseDir,
    stop: async (): Promise<void> => {
      await originalStop();
      if (ownDir && process.env.ZKHA_KEEP_TEST_DATA !== '1') fs.rmSync(baseDir, { recursive: true, force: true });
    },
  });
  return testEnsemble;
}
