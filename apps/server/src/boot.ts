import path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { createDb } from '@zkha/db';
import { createServices, type EnsembleMember, type Services } from '@zkha/services';
import { FileStorage } from '@zkha/storage';
import { probeEnsemble, startLocalEnsemble, ZkClient, type LocalEnsemble } from '@zkha/zk';

import { buildApp } from './app.ts';
import type { AppConfig } from './config.ts';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  ensemble: LocalEnsemble | null;
  url: string;
  stop(): Promise<void>;
}

export interface BootOptions {
  /** Built SPA folder. */
  webDir?: string;
  log?: (line: string) => void;
  logger?: boolean | object;
}

/**
 * Starts everything for one configuration: the embedded ensemble (unless ZK_NODES names one), the database,
 * the file store, the services and the HTTP server. `stop()` undoes it in reverse order, leaving no process.
 */
export async function boot(config: AppConfig, opts: BootOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? (() => undefined);
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep stopping the rest: a half-stopped server must not leave ZooKeeper processes behind
      }
    }
  };

  try {
    let ensemble: LocalEnsemble | null = null;
    let members: EnsembleMember[];
    if (config.ZK_NODES) {
      members = config.ZK_NODES;
      log(`using the ZooKeeper ensemble at ${members.map((m) => `${m.host}:${m.port}`).join(',')}`);
    } else {
      const names = config.ZK_NODE_NAMES;
      log(`starting an embedded ${names.length}-node ZooKeeper ensemble (client ports ${config.ZK_CLIENT_PORT_BASE}-${config.ZK_CLIENT_PORT_BASE + names.length - 1})`);
      const started = Date.now();
      ensemble = await startLocalEnsemble({
        nodes: names.map((name, i) => ({
          name,
          id: i + 1,
          clientPort: config.ZK_CLIENT_PORT_BASE + i,
          quorumPort: config.ZK_QUORUM_PORT_BASE + i,
          electionPort: config.ZK_ELECTION_PORT_BASE + i,
          adminPort: config.ZK_ADMIN_PORT_BASE + i,
        })),
        dataDir: path.resolve(config.ZK_DATA_DIR),
        logsDir: path.resolve(config.LOGS_DIR),
        ...(config.ZK_HOME ? { zkHome: config.ZK_HOME } : {}),
      });
      const running = ensemble;
      cleanups.push(() => running.stop());
      members = running.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
      log(`quorum formed in ${Date.now() - started} ms; leader ${(await running.leader()) ?? "?"}`);
    }

    const database = createDb(path.resolve(config.DATABASE_PATH));
    cleanups.push(() => database.close());
    const storage = new FileStorage({ root: path.resolve(config.FILE_STORAGE_PATH), nodes: members.map((m) => m.name) });
    const zk = await ZkClient.connect(members.map((m) => `${m.host}:${m.port}`).join(','), { sessionTimeout: config.ZK_SESSION_TIMEOUT });
    cleanups.push(() => zk.close());

    const services = createServices({
      db: database.db,
      storage,
      zk,
      members,
      probe: (m) => probeEnsemble(m),
      probeIntervalMs: config.ZK_PROBE_INTERVAL_MS,
      uploadMaxBytes: config.UPLOAD_MAX_BYTES,
      scheduler: { enabled: config.AUTO_SCHEDULER_ENABLED, intervalSec: config.AUTO_SCHEDULER_INTERVAL, threshold: config.SCHEDULER_THRESHOLD },
    });
    cleanups.push(() => services.stop());
    await services.init();

    const app = await buildApp({ services, ...(opts.webDir ? { webDir: opts.webDir } : {}), ...(opts.logger !== undefined ? { logger: opts.logger } : {}) });
    cleanups.push(() => app.close());
    await app.listen({ host: config.HOST, port: config.PORT });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
    services.start();
    return { app, services, ensemble, url: `http://${host}:${port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
