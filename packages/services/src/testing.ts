/**
 * Real services for tests: a temporary SQLite file, a temporary upload folder and a ZooKeeper ensemble
 * (started here on free loopback ports unless one is passed in). Nothing is faked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createDb } from '@zkha/db';
import { FileStorage } from '@zkha/storage';
import { probeEnsemble, ZkSession, type LocalEnsemble } from '@zkha/zk';
import { startTestEnsemble } from '@zkha/zk/testing';

import { createServices, type Services, type ServicesOptions } from './container.ts';
import type { SchedulerConfig } from './scheduler.ts';

export interface TestServices {
  services: Services;
  ensemble: LocalEnsemble;
  dir: string;
  /** Stops services and closes stores; stops the ensemble only if this helper started it. */
  close(): Promise<void>;
}

export async function createTestServices(
  opts: { ensemble?: LocalEnsemble; scheduler?: Partial<SchedulerConfig>; services?: Partial<ServicesOptions> } = {},
): Promise<TestServices> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zkha-svc-'));
  const ownEnsemble = opts.ensemble === undefined;
  const ensemble = opts.ensemble ?? (await startTestEnsemble({ size: 3 }));
  const members = ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
  const database = createDb(path.join(dir, 'zkha.db'));
  const storage = new FileStorage({ root: path.join(dir, 'uploads'), nodes: members.map((m) => m.name) });
  const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
  const services = createServices({
    db: database.db,
    storage,
    session,
    members,
    // The launcher, so membership changes, rolling restarts and host figures work on the test ensemble.
    localEnsemble: ensemble,
    ...opts.services,
    probe: (m) => probeEnsemble(m),
    probeIntervalMs: 300,
    scheduler: { enabled: false, intervalSec: 15, threshold: 5, ...opts.scheduler },
  });
  await services.init();
  return {
    services,
    ensemble,
    dir,
    async close() {
      await services.stop();
      await session.close();
      database.close();
      if (ownEnsemble) await ensemble.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
