/**
 * Real services for tests: a temporary SQLite file, a temporary upload folder and a ZooKeeper ensemble
 * (started here on free loopback ports unless one is passed in). Nothing is faked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createDb } from '@zkha/db';
import { FileStorage } from '@zkha/storage';
import { probeEnsemble, ZkSession, type LocalEnsemble, type ZkDigestCredentials } from '@zkha/zk';
import { startTestEnsemble } from '@zkha/zk/testing';

import { createServices, type Services, type ServicesOptions } from './container.ts';
import type { SchedulerConfig } from './scheduler.ts';

/**
 * The ZooKeeper credentials test services use unless told otherwise, so every suite runs the protected path
 * (znodes under /zkha carry the digest ACL). Fixed, not random: tests that share one ensemble between
 * several service sets must all be allowed to write the same tree.
 */
export const TEST_ZK_AUTH: ZkDigestCredentials = { user: 'zkha', password: 'zkha-test-credentials' };

export interface TestServices {
  services: Services;
  ensemble: LocalEnsemble;
  dir: string;
  /** The credentials the services' session authenticates with (null: an open tree). */
  zkAuth: ZkDigestCredentials | null;
  /** Stops services and closes stores; stops the ensemble only if this helper started it. */
  close(): Promise<void>;
}

export async function createTestServices(
  opts: {
    ensemble?: LocalEnsemble;
    scheduler?: Partial<SchedulerConfig>;
    services?: Partial<ServicesOptions>;
    /** Default TEST_ZK_AUTH; null for an unprotected tree. */
    zkAuth?: ZkDigestCredentials | null;
  } = {},
): Promise<TestServices> {
  const dir = await mkdtemp(path.join(tmpdir(), 'zkha-svc-'));
  const ownEnsemble = opts.ensemble === undefined;
  const ensemble = opts.ensemble ?? (await startTestEnsemble({ size: 3 }));
  const members = ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
  const database = createDb(path.join(dir, 'zkha.db'));
  const storage = new FileStorage({ root: path.join(dir, 'uploads'), nodes: members.map((m) => m.name) });
  const zkAuth = opts.zkAuth === undefined ? TEST_ZK_AUTH : opts.zkAuth;
  const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000, auth: zkAuth });
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
    zkAuth,
    async close() {
      await services.stop();
      await session.close();
      database.close();
      if (ownEnsemble) await ensemble.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
