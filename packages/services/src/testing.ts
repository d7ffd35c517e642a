/**
 * Real services for tests: a temporary SQLite file, a real storage agent per node (its data API on a free
 * loopback port, its own ZooKeeper session and alive znode, its own temporary folder) and a ZooKeeper ensemble
 * (started here on free loopback ports unless one is passed in). Nothing is faked.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { DataServer, StorageAgent } from '@zkha/agent';
import { createDb } from '@zkha/db';
import type { AgentStorage } from '@zkha/storage';
import { probeEnsemble, ZkSession, type ZkDigestCredentials } from '@zkha/zk';
import type { LocalEnsemble } from '@zkha/zk-local';
import { startTestEnsemble } from '@zkha/zk-local/testing';

import { storageOverAgents } from './storage-nodes/agent-directory.ts';
import { createServices, type Services, type ServicesOptions } from './container.ts';

/** Storage agents run in this process, each with its own data server, session and folder under `root`. */
export class TestAgents {
  readonly token: string;
  private readonly running = new Map<string, { server: DataServer; agent: StorageAgent; session: ZkSession }>();
  private closed = false;

  constructor(
    private readonly o: {
      root: string;
      connectionString: string;
      zkAuth: ZkDigestCredentials | null;
      capacityBytes?: (node: string) => number | null;
      token?: string;
    },
  ) {
    this.token = o.token ?? randomBytes(24).toString('base64url');
  }

  /** The folder a node's agent owns (tests may look; the control plane never does). */
  folderOf(node: string): string {
    return path.join(this.o.root, node);
  }

  /** The data API URL of a running agent. */
  urlOf(node: string): string {
    const a = this.running.get(node);
    if (!a) throw new Error(`no agent runs for ${node}`);
    return a.server.url;
  }

  has(node: string): boolean {
    return this.running.has(node);
  }

  async start(node: string): Promise<void> {
    if (this.running.has(node) || this.closed) return;
    const folder = this.folderOf(node);
    const server = await DataServer.start({
      node,
      folder,
      host: '127.0.0.1',
      port: 0,
      token: this.token,
      capacityBytes: this.o.capacityBytes?.(node) ?? null,
      maxFileBytes: 1024 ** 3,
      rescanIntervalMs: 0,
    });
    const session = await ZkSession.connect(this.o.connectionString, { sessionTimeout: 6000, auth: this.o.zkAuth });
    const agent = new StorageAgent(session, {
      node,
      address: this.o.connectionString,
      folder,
      heartbeatIntervalMs: 1000,
      dataUrl: server.url,
      capacity: () => server.usage(),
    });
    await agent.start();
    this.running.set(node, { server, agent, session });
  }

  /** Stops a node's agent as a clean shutdown would: its alive znode goes, its API stops answering. */
  async stop(node: string): Promise<void> {
    const a = this.running.get(node);
    if (!a) return;
    this.running.delete(node);
    await a.agent.stop();
    await a.session.close();
    await a.server.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.keys()].map((n) => this.stop(n)));
  }
}
import type { SchedulerConfig } from './scheduler/scheduler.ts';

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
  /** The storage agents, one per storage node (none started with `inProcessAgents: false`). */
  agents: TestAgents;
  storage: AgentStorage;
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
    /** The agents' data API token the storage port sends (default: a random one). */
    agentToken?: string;
    /**
     * Default true. False: no in-process agent is started, now or for nodes added later; the caller runs the
     * agents itself (e.g. as processes in mount namespaces of their own) with `agentToken`, and the services
     * find them through their alive znodes like any others.
     */
    inProcessAgents?: boolean;
    /** A folder to keep the database (and agents' folders) in, kept at close: a later call restarts on it. */
    dir?: string;
  } = {},
): Promise<TestServices> {
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'zkha-svc-')));
  const ownEnsemble = opts.ensemble === undefined;
  const ensemble = opts.ensemble ?? (await startTestEnsemble({ size: 3 }));
  const members = ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
  const database = createDb(path.join(dir, 'zkha.db'));
  const zkAuth = opts.zkAuth === undefined ? TEST_ZK_AUTH : opts.zkAuth;
  const agents = new TestAgents({
    root: path.join(dir, 'uploads'),
    connectionString: ensemble.connectionString,
    zkAuth,
    capacityBytes: (node) => opts.services?.storageCapacity?.perNode?.[node] ?? opts.services?.storageCapacity?.defaultBytes ?? null,
    ...(opts.agentToken !== undefined ? { token: opts.agentToken } : {}),
  });
  const inProcessAgents = opts.inProcessAgents ?? true;
  if (inProcessAgents) for (const m of members) await agents.start(m.name);
  const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000, auth: zkAuth });
  const storage = storageOverAgents(session, { token: agents.token, spoolDir: path.join(dir, 'spool') });
  const services = createServices({
    db: database.db,
    storage,
    session,
    members,
    // The launcher, so membership changes, rolling restarts and host figures work on the test ensemble.
    localEnsemble: ensemble,
    // A storage node added while running gets an agent like the others.
    // (Started in the background, as a supervisor does; one still starting when the test closes just never registers.)
    agents: inProcessAgents ? { start: (node) => void agents.start(node).catch(() => undefined), stop: (node) => agents.stop(node) } : null,
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
    agents,
    storage,
    zkAuth,
    async close() {
      await services.stop();
      storage.close();
      await agents.close();
      await session.close();
      database.close();
      if (ownEnsemble) await ensemble.stop();
      if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
