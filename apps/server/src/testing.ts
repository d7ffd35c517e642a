/** The whole server for tests, as `npm start` runs it, on free loopback ports and in a temporary folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { getFreePortBlock } from '@zkha/zk/testing';

import { boot, type RunningServer } from './boot.ts';
import { loadConfig } from './config.ts';

/** The ZooKeeper credentials test servers run with (see testServerEnv). */
export const TEST_ZK_AUTH = { user: 'zkha', password: 'zkha-test-credentials' } as const;
const TEST_ZK_AUTH_STRING = `${TEST_ZK_AUTH.user}:${TEST_ZK_AUTH.password}`;

export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  close(): Promise<void>;
}

/** The environment of a server living in `dir` on free loopback ports, for a booted or a spawned server. */
export async function testServerEnv(dir: string): Promise<Record<string, string>> {
  return {
    PORT: String(await getFreePortBlock(1)),
    ZK_CLIENT_PORT_BASE: String(await getFreePortBlock(3)),
    ZK_QUORUM_PORT_BASE: String(await getFreePortBlock(3)),
    ZK_ELECTION_PORT_BASE: String(await getFreePortBlock(3)),
    ZK_ADMIN_PORT_BASE: String(await getFreePortBlock(3)),
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
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
