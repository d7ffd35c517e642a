/** The whole server for tests, as `npm start` runs it, on free loopback ports and in a temporary folder. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AgentSupervisor } from '@zkha/agent';
import { ZkSession } from '@zkha/zk';
import { getFreePortBlocks } from '@zkha/zk-local/testing';

import { boot, type RunningServer } from './boot.ts';
export { buildBundles, SERVER_BUNDLE, START_HA_BUNDLE } from './bundles.ts';
import { waitForAgents } from './infrastructure.ts';
import { loadConfig } from './config.ts';

/** The ZooKeeper credentials test servers run with (see testServerEnv). */
export const TEST_ZK_AUTH = { user: 'zkha', password: 'zkha-test-credentials' } as const;
const TEST_ZK_AUTH_STRING = `${TEST_ZK_AUTH.user}:${TEST_ZK_AUTH.password}`;

export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  readonly close: () => Promise<void>;
}

export interface TestPortOptions {
  /** Consecutive free ports from PORT on (start-ha takes PORT, PORT+1...). Default 1. */
  httpPorts?: number;
  /** Consecutive free ports from each ZK_*_PORT_BASE (a server added later takes base + id - 1). Default 3. */
  zkPorts?: number;
}

/** The environment of a server living in `dir` on free loopback ports, for a booted or a spawned server. */
export async function testServerEnv(dir: string, ports: TestPortOptions = {}): Promise<Record<string, string>> {
  // One call, so the blocks cannot overlap: separate calls each saw the same free block and handed it out twice
  // ("port 13974 used twice (zk1.electionPort and zk2.adminPort)" in CI).
  const size = Math.max(ports.httpPorts ?? 1, ports.zkPorts ?? 3);
  const [http, client, quorum, election, admin] = (await getFreePortBlocks(5, size)).map(String);
  return {
    PORT: http!,
    ZK_CLIENT_PORT_BASE: client!,
    ZK_QUORUM_PORT_BASE: quorum!,
    ZK_ELECTION_PORT_BASE: election!,
    ZK_ADMIN_PORT_BASE: admin!,
    ZK_DATA_DIR: path.join(dir, 'zk'),
    LOGS_DIR: path.join(dir, 'logs'),
    FILE_STORAGE_PATH: path.join(dir, 'uploads'),
    DATABASE_PATH: path.join(dir, 'zkha.db'),
    LOG_STORE_PATH: path.join(dir, 'logs.db'),
    AUTO_SCHEDULER_ENABLED: 'false',
    DEMO_WORKLOAD_ENABLED: 'false', // tests turn it on themselves when they want it
    ZK_PROBE_INTERVAL_MS: '300',
    // The protected path in every test. Fixed, so a second server on the first one's ensemble (ZK_NODES) may
    // write the same tree; pass ZK_AUTH: '' to test the generated credentials file instead.
    ZK_AUTH: TEST_ZK_AUTH_STRING,
  };
}

export interface BootTestServerOptions {
  /** A built console to serve at /ui/ (tests of the SPA's headers build one into a temp folder). */
  webDir?: string;
}

export async function bootTestServer(env: Record<string, string> = {}, opts: BootTestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zkha-server-'));
  const server = await boot(loadConfig({ ...(await testServerEnv(dir)), ...env }), opts.webDir ? { webDir: opts.webDir } : {});
  return {
    server,
    url: server.url,
    dir,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * The storage agents as processes of their own (as on other hosts), one per node of `ensemble`, folders under
 * `dir/uploads`, logs under `dir/logs`; resolves once every one has registered its alive znode.
 */
export async function startExternalAgents(
  ensemble: { connectionString: string },
  nodes: readonly string[],
  dir: string,
): Promise<AgentSupervisor> {
  const agents = new AgentSupervisor({
    agents: nodes.map((node) => ({
      node,
      zk: ensemble.connectionString,
      folder: path.join(dir, 'uploads', node),
      logFile: path.join(dir, 'logs', node, 'agent.log'),
    })),
    sessionTimeoutMs: 4000,
    heartbeatIntervalMs: 1000,
    restartDelayMs: 500,
    zkAuth: { ...TEST_ZK_AUTH },
  });
  agents.startAll();
  const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
  try {
    if (!(await waitForAgents(session, nodes, 60_000))) throw new Error('the agents did not register within 60 s');
  } finally {
    await session.close();
  }
  return agents;
}

/** The server as `npm start` runs it, as a process with `env`; resolves once it says it is ready. */
export async function spawnServer(env: NodeJS.ProcessEnv, name = 'server'): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 60 s:\n${out.slice(-2000)}`)), 60_000);
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('zkha: ready at')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
  return proc;
}

/** Signals a process and waits for it to exit (nothing to do if it has). */
export async function stopProcess(proc: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}
