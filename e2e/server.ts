/**
 * The real zkha server for browser tests, in one process (one PID stops it all): the embedded 3-node
 * ensemble, SQLite, file storage and HTTP, on the ports given by ZKHA_E2E_* (free ones when unset), with
 * its data under ZKHA_E2E_DATA_DIR (a fresh temp folder when unset, removed on exit), and the API tokens of
 * ZKHA_E2E_API_TOKENS (API_TOKENS syntax) when set.
 *
 *   node --import tsx e2e/server.ts
 *
 * Prints `ZKHA_E2E_READY <url>` once it serves. SIGTERM/SIGINT stop the HTTP server (dropping open event
 * streams), the services and the ZooKeeper JVMs, then exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { boot } from '../apps/server/src/boot.ts';
import { loadConfig } from '../apps/server/src/config.ts';
import { freeServerPorts } from './support/ports.ts';

const env = process.env;
const ownDir = !env.ZKHA_E2E_DATA_DIR;
const dir = env.ZKHA_E2E_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'zkha-e2e-'));
const free = env.ZKHA_E2E_PORT ? null : await freeServerPorts();

const config = loadConfig({
  PORT: env.ZKHA_E2E_PORT ?? String(free!.http),
  ZK_CLIENT_PORT_BASE: env.ZKHA_E2E_ZK_CLIENT_PORT_BASE ?? String(free!.zkClient),
  ZK_QUORUM_PORT_BASE: env.ZKHA_E2E_ZK_QUORUM_PORT_BASE ?? String(free!.zkQuorum),
  ZK_ELECTION_PORT_BASE: env.ZKHA_E2E_ZK_ELECTION_PORT_BASE ?? String(free!.zkElection),
  ZK_ADMIN_PORT_BASE: env.ZKHA_E2E_ZK_ADMIN_PORT_BASE ?? String(free!.zkAdmin),
  ZK_DATA_DIR: path.join(dir, 'zk'),
  LOGS_DIR: path.join(dir, 'logs'),
  FILE_STORAGE_PATH: path.join(dir, 'uploads'),
  DATABASE_PATH: path.join(dir, 'zkha.db'),
  LOG_STORE_PATH: path.join(dir, 'logs.db'),
  // Tests run the scheduler themselves; a test that wants the loop sets an interval.
  AUTO_SCHEDULER_ENABLED: env.AUTO_SCHEDULER_ENABLED ?? 'false',
  AUTO_SCHEDULER_INTERVAL: env.AUTO_SCHEDULER_INTERVAL ?? '2',
  DEMO_WORKLOAD_ENABLED: 'false',
  ZK_PROBE_INTERVAL_MS: env.ZK_PROBE_INTERVAL_MS ?? '500',
  LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
  // Access control for specs that test it (auth.spec.ts); unset, the server is open to loopback as before.
  ...(env.ZKHA_E2E_API_TOKENS ? { API_TOKENS: env.ZKHA_E2E_API_TOKENS } : {}),
});

const webDir = fileURLToPath(new URL('../apps/web/dist', import.meta.url));
const server = await boot(config, { webDir, log: (line) => console.log(`zkha-e2e: ${line}`), logger: { level: config.LOG_LEVEL } });
console.log(`ZKHA_E2E_READY ${server.url}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`zkha-e2e: ${signal}, stopping`);
  // Open SSE streams never end by themselves, and closing the HTTP server waits for them: drop them.
  const http = server.app.server;
  const dropper = setInterval(() => http.closeAllConnections(), 100);
  http.closeAllConnections();
  const watchdog = setTimeout(() => {
    console.error('zkha-e2e: still stopping after 20 s, exiting');
    process.exit(1);
  }, 20_000);
  try {
    await server.stop();
  } finally {
    clearInterval(dropper);
    clearTimeout(watchdog);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
