import { hostname } from 'node:os';
import path from 'node:path';

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import { createDb } from '@zkha/db';
import {
  basePortAllocator,
  storageOverAgents,
  createServices,
  type EnsembleMember,
  type Services,
  type ServicesOptions,
} from '@zkha/services';
import type { AgentSupervisor } from '@zkha/agent';
import { createLogStore, defaultLogFiles, LogTailer, type LogStore } from '@zkha/logs';
import type { NodeController } from '@zkha/core';
import { DisabledNodeController } from '@zkha/node-control';
import { ProcessNodeController } from '@zkha/node-control/process';
import { isZkError, probeEnsemble, ZkSession } from '@zkha/zk';
import { saveEnsembleMembership, type LocalEnsemble } from '@zkha/zk-local';

import { buildApp } from './app.ts';
import {
  agentSupervisorFor,
  membersOf,
  resolveAgentToken,
  startEmbeddedEnsemble,
  storageMembersOf,
  waitForAgents,
} from './infrastructure.ts';
import { assertSafeBinding, authSettingsFrom } from './auth.ts';
import type { AppConfig } from './config.ts';
import { resolveZkAuth, type ResolvedZkAuth } from './zk-auth.ts';

/** zkha's znodes: everything below is created with, and migrated to, the digest ACL of ZK_AUTH. */
const ZKHA_ROOT = '/zkha';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  ensemble: LocalEnsemble | null;
  agents: AgentSupervisor | null;
  url: string;
  stop(): Promise<void>;
}

export interface BootOptions {
  /** Built SPA folder. */
  webDir?: string;
  log?: (line: string) => void;
  logger?: boolean | object;
  /** The server's pino logger; operations and lifecycle lines go to it too. */
  loggerInstance?: Logger;
}

type Log = (line: string) => void;
/** Registers how to undo a step; `stop()` runs them in reverse order. */
type Defer = (cleanup: () => Promise<void> | void) => void;

/**
 * Starts everything for one configuration: the embedded ensemble (unless ZK_NODES names one), the database,
 * the file store, the services and the HTTP server. `stop()` undoes it in reverse order, leaving no process.
 */
export async function boot(config: AppConfig, opts: BootOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? (() => undefined);
  const { defer, stop } = cleanupStack();

  // Before anything starts: beyond loopback without a token, say why and start nothing.
  assertSafeBinding(config);
  // Likewise an external ensemble without ZooKeeper credentials (this may create the generated credentials file).
  const zkAuth = resolveZkAuth(config);
  reportZkAuth(zkAuth, log, opts.loggerInstance);
  const auth = zkAuth.auth;
  try {
    const { ensemble, members } = await startOrJoinEnsemble(config, log, defer);
    const storageMembers = storageMembersOf(config, members, ensemble !== null);

    const database = createDb(path.resolve(config.DATABASE_PATH));
    defer(() => database.close());
    const session = await ZkSession.connect(members.map((m) => `${m.host}:${m.port}`).join(','), {
      sessionTimeout: config.ZK_SESSION_TIMEOUT,
      auth,
    });
    defer(() => session.close());
    const aclMigration = await protectZkhaTree(session, zkAuth, log);

    const agentToken = await requireAgentToken(config);
    const agents = config.AGENTS_ENABLED ? agentSupervisorFor(config, storageMembers, auth, agentToken) : null;
    // The one way to the files' bytes: each node's agent, found through its alive znode (local or on another host).
    const storage = storageOverAgents(session, {
      token: agentToken,
      spoolDir: path.join(path.dirname(path.resolve(config.DATABASE_PATH)), 'spool'),
    });
    defer(() => storage.close());
    if (agents) await startAgents(agents, session, storageMembers, log, defer);
    const controller = await nodeControllerFor(config, ensemble, agents, members);
    const logStore = startLogSearch(config, ensemble, members, defer);

    const services = createServices({
      logStore,
      db: database.db,
      storage,
      session,
      members,
      controller,
      connectClient: () => ZkSession.connect(session.connectionString, { sessionTimeout: config.ZK_SESSION_TIMEOUT, auth }),
      // Agents always exist (started here, or on their own hosts): their alive znodes are always watched.
      liveness: { reconcileIntervalMs: config.LIVENESS_RECONCILE_INTERVAL * 1000 },
      probe: (m) => probeEnsemble(m),
      probeIntervalMs: config.ZK_PROBE_INTERVAL_MS,
      localEnsemble: ensemble,
      storageEnsemble: storageMembers.map((m) => m.name),
      ensemble: ensembleOptions(config, ensemble),
      uploadMaxBytes: config.UPLOAD_MAX_BYTES,
      errorStacks: config.ERROR_STACKS,
      ...settingsFrom(config),
      agents: agents ? agentHooks(config, agents, session) : null,
    });
    defer(() => services.stop());
    await services.init();
    if (aclMigration) {
      services.operations.record({ action: 'zk_acl_protect', status: 'success', details: { root: ZKHA_ROOT, ...aclMigration } });
    }
    if (opts.loggerInstance) logOperations(services, opts.loggerInstance);
    const { app, url } = await serveHttp(config, services, opts, defer);
    await services.start();
    return { app, services, ensemble, agents, url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The undo list of a boot: each step defers its cleanup, and `stop()` runs them newest first. */
function cleanupStack(): { defer: Defer; stop: () => Promise<void> } {
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
  return { defer: (fn) => void cleanups.push(fn), stop };
}

/** Says where zkha's ZooKeeper credentials come from, and warns when its znodes are open to every client. */
function reportZkAuth(zkAuth: ResolvedZkAuth, log: Log, logger: Logger | undefined): void {
  if (zkAuth.source === 'none') {
    const line = `ZK_AUTH=none: zkha's znodes under ${ZKHA_ROOT} are open, any client of the ensemble can change or delete them`;
    if (logger) logger.warn(line);
    else log(`warning: ${line}`);
  } else if (zkAuth.source === 'generated') {
    log(`generated ZooKeeper credentials for ${ZKHA_ROOT} in ${zkAuth.file} (mode 0600)`);
  } else if (zkAuth.source === 'file') {
    log(`ZooKeeper credentials for ${ZKHA_ROOT} from ${zkAuth.file}${zkAuth.tightened ? ' (its mode was narrowed to 0600)' : ''}`);
  }
}

/** The ensemble named by ZK_NODES, or the embedded one, started here (and stopped by `stop()`). */
async function startOrJoinEnsemble(
  config: AppConfig,
  log: Log,
  defer: Defer,
): Promise<{ ensemble: LocalEnsemble | null; members: EnsembleMember[] }> {
  if (config.ZK_NODES) {
    const members = config.ZK_NODES;
    log(`using the ZooKeeper ensemble at ${members.map((m) => `${m.host}:${m.port}`).join(',')}`);
    return { ensemble: null, members };
  }
  const running = await startEmbeddedEnsemble(config, log);
  defer(() => running.stop());
  return { ensemble: running, members: membersOf(running) };
}

/**
 * A tree created before credentials were configured is open: protect it once, before anything else writes.
 * Returns what was done, reported as an operation once the services (and their audit trail) exist.
 */
async function protectZkhaTree(
  session: ZkSession,
  zkAuth: ResolvedZkAuth,
  log: Log,
): Promise<{ znodes: number; durationMs: number } | null> {
  if (!zkAuth.auth) return null;
  const started = Date.now();
  let znodes: number;
  try {
    znodes = await session.client.protectTree(ZKHA_ROOT);
  } catch (err) {
    if (!isZkError(err, 'NO_AUTH')) throw err;
    throw new Error(
      `ZooKeeper refused to change the ACL of ${ZKHA_ROOT} (NO_AUTH): it is protected with credentials other than ` +
        `${zkAuth.source === 'config' ? 'ZK_AUTH' : `the ones in ${zkAuth.file}`}. Start zkha with the credentials the tree was protected with.`,
      { cause: err },
    );
  }
  if (znodes === 0) return null;
  const aclMigration = { znodes, durationMs: Date.now() - started };
  log(
    `${ZKHA_ROOT} had an open ACL (created before ZooKeeper credentials were configured): protected ${znodes} znodes in ${aclMigration.durationMs} ms`,
  );
  return aclMigration;
}

/** The agents' token (see resolveAgentToken). Never logged. */
async function requireAgentToken(config: AppConfig): Promise<string> {
  const agentToken = await resolveAgentToken(config);
  // Read: nothing this process starts (ZooKeeper servers, agents: they get it their own way) inherits it.
  delete process.env.AGENT_TOKEN;
  if (agentToken === null) {
    throw new Error(
      'AGENTS_ENABLED=false: the storage agents run elsewhere, so zkha needs their token: set AGENT_TOKEN (or AGENT_TOKEN_FILE) to the secret the agents were given (ZKHA_AGENT_TOKEN)',
    );
  }
  return agentToken;
}

/** Starts the local storage agents and waits a little for them to register. */
async function startAgents(
  agents: AgentSupervisor,
  session: ZkSession,
  storageMembers: readonly { name: string }[],
  log: Log,
  defer: Defer,
): Promise<void> {
  agents.startAll();
  defer(() => agents.stopAll());
  // Give the agents a moment to register so start-up does not log every node as OFFLINE first.
  const registered = await waitForAgents(
    session,
    storageMembers.map((m) => m.name),
    15_000,
  );
  if (!registered) log('not every storage agent registered within 15 s: those nodes start OFFLINE');
}

/**
 * Processes for the embedded ensemble, Docker when enabled, else a controller that says node control is off.
 * The Docker client is imported only when it is used: dockerode brings gRPC, protobuf and ssh2 along (~15 MB
 * of resident memory a server without Docker control never needs).
 */
async function nodeControllerFor(
  config: AppConfig,
  ensemble: LocalEnsemble | null,
  agents: AgentSupervisor | null,
  members: readonly EnsembleMember[],
): Promise<NodeController> {
  const nodeNames = members.map((m) => m.name);
  if (ensemble) return new ProcessNodeController(ensemble, agents ?? undefined);
  if (!config.DOCKER_CONTROL_ENABLED) return new DisabledNodeController({ nodes: nodeNames });
  const { DockerNodeController } = await import('@zkha/node-control/docker');
  return new DockerNodeController({
    nodes: nodeNames,
    ...(config.DOCKER_SOCKET ? { socketPath: config.DOCKER_SOCKET } : {}),
    ...(config.COMPOSE_PROJECT ? { project: config.COMPOSE_PROJECT } : {}),
  });
}

/** Searchable logs: the server's own JSON log and each ZooKeeper node's log, tailed into the log store, with retention. */
function startLogSearch(config: AppConfig, ensemble: LocalEnsemble | null, members: readonly EnsembleMember[], defer: Defer): LogStore {
  const logStore = createLogStore({
    sqlitePath: path.resolve(config.LOG_STORE_PATH),
    ...(config.ELASTICSEARCH_URL ? { elasticsearchUrl: config.ELASTICSEARCH_URL, elasticsearchIndex: config.ELASTICSEARCH_INDEX } : {}),
  });
  defer(() => logStore.close());
  // On the embedded default every node folder under LOGS_DIR (a pattern, re-read at each poll), so the logs of a
  // server added by ensemble scaling are searchable too.
  const tailer = new LogTailer({
    store: logStore,
    files: defaultLogFiles(path.resolve(config.LOGS_DIR), ensemble ? undefined : members.map((m) => m.name)),
  });
  // Not awaited: the first pass over the log files must not hold up the start; start() never throws for I/O.
  void tailer.start();
  defer(() => tailer.stop());
  const retain = () =>
    void logStore
      .applyRetention({ maxAgeMs: config.LOG_RETENTION_DAYS * 86_400_000, maxRows: config.LOG_RETENTION_MAX_ROWS })
      .catch(() => undefined);
  retain();
  const retention = setInterval(retain, 10 * 60_000).unref();
  defer(() => clearInterval(retention));
  return logStore;
}

/** Load score, scaling policy, and where servers added while running get their ports and their membership saved. */
function ensembleOptions(config: AppConfig, ensemble: LocalEnsemble | null): ServicesOptions['ensemble'] {
  return {
    score: { weights: config.LOAD_SCORE_WEIGHTS, references: config.LOAD_SCORE_REFERENCES },
    historyMinutes: config.LOAD_HISTORY_MINUTES,
    policy: {
      auto: config.SCALING_AUTO,
      upThreshold: config.SCALING_UP_THRESHOLD,
      downThreshold: config.SCALING_DOWN_THRESHOLD,
      forMinutes: config.SCALING_FOR_MINUTES,
      cooldownMinutes: config.SCALING_COOLDOWN_MINUTES,
      minVoters: config.SCALING_MIN_VOTERS,
      maxVoters: config.SCALING_MAX_VOTERS,
    },
    // A server added while running takes the id-th port of each configured range, like the configured ones.
    allocatePorts: basePortAllocator({
      clientPortBase: config.ZK_CLIENT_PORT_BASE,
      quorumPortBase: config.ZK_QUORUM_PORT_BASE,
      electionPortBase: config.ZK_ELECTION_PORT_BASE,
      adminPortBase: config.ZK_ADMIN_PORT_BASE,
    }),
    persist: ensemble ? (nodes) => saveEnsembleMembership(path.resolve(config.ZK_DATA_DIR), nodes) : null,
  };
}

/** The services' settings read straight from the configuration: demo workload, scheduler, migrations, capacity, control. */
function settingsFrom(
  config: AppConfig,
): Pick<ServicesOptions, 'demoWorkload' | 'scheduler' | 'migrations' | 'capacity' | 'storageCapacity' | 'control'> {
  return {
    demoWorkload: {
      enabled: config.DEMO_WORKLOAD_ENABLED,
      intervalSec: config.DEMO_WORKLOAD_INTERVAL,
      maxFiles: config.DEMO_WORKLOAD_MAX_FILES,
      maxBytes: config.DEMO_WORKLOAD_MAX_BYTES,
      minSizeKb: config.DEMO_WORKLOAD_MIN_SIZE_KB,
      maxSizeKb: config.DEMO_WORKLOAD_MAX_SIZE_KB,
      extraClients: config.DEMO_WORKLOAD_EXTRA_CLIENTS,
    },
    scheduler: {
      enabled: config.AUTO_SCHEDULER_ENABLED,
      intervalSec: config.AUTO_SCHEDULER_INTERVAL,
      threshold: config.SCHEDULER_THRESHOLD,
      mode: config.SCHEDULER_MODE,
      strategy: config.SCHEDULER_STRATEGY,
      highWatermark: config.SCHEDULER_HIGH_WATERMARK,
    },
    migrations: {
      caps: {
        maxConcurrent: config.MIGRATION_MAX_CONCURRENT,
        maxPerNodeIn: config.MIGRATION_MAX_PER_NODE_IN,
        maxPerNodeOut: config.MIGRATION_MAX_PER_NODE_OUT,
        bandwidthBytesPerSec: config.MIGRATION_BANDWIDTH_BYTES_PER_SEC ?? null,
      },
      policy: config.MIGRATION_POLICY,
      adaptive: config.MIGRATION_ADAPTIVE,
    },
    capacity: {
      sampleIntervalMs: config.CAPACITY_SAMPLE_INTERVAL * 1000,
      targetUtilization: config.CAPACITY_TARGET_UTILIZATION,
      band: config.CAPACITY_BAND,
    },
    storageCapacity: { defaultBytes: config.STORAGE_NODE_CAPACITY, perNode: config.STORAGE_NODE_CAPACITIES },
    // Every instance takes part in the leader election; alone, it simply always wins.
    control: { id: config.INSTANCE_ID ?? `${hostname()}:${config.PORT}` },
  };
}

/**
 * A storage node added while running gets an agent like the others; with no server of its own, its session
 * spans the whole ensemble.
 */
function agentHooks(config: AppConfig, agents: AgentSupervisor, session: ZkSession): NonNullable<ServicesOptions['agents']> {
  return {
    start: (node) => {
      agents.add({
        node,
        zk: session.connectionString,
        folder: path.join(path.resolve(config.FILE_STORAGE_PATH), node),
        logFile: path.join(path.resolve(config.LOGS_DIR), node, 'agent.log'),
      });
      agents.start(node);
    },
    stop: (node) => (agents.has(node) ? agents.stop(node) : Promise.resolve()),
  };
}

/** Every audited operation is also a log line, so a search of the logs finds it next to ZooKeeper's own lines. */
function logOperations(services: Services, logger: Logger): void {
  services.events.on('operation', (op) =>
    logger[op.status === 'failed' ? 'warn' : 'info'](
      { operation: op.action, node: op.node, status: op.status, details: op.details },
      `operation ${op.action}${op.node ? ` on ${op.node}` : ''}: ${op.status}`,
    ),
  );
  services.events.on('cluster', (e) => logger.warn({ event: e.kind, node: e.node }, e.message));
}

/** Builds the HTTP app, listens, and tells the other instances where to forward mutations. */
async function serveHttp(
  config: AppConfig,
  services: Services,
  opts: BootOptions,
  defer: Defer,
): Promise<{ app: FastifyInstance; url: string }> {
  const logger = opts.loggerInstance;
  const app = await buildApp({
    services,
    auth: authSettingsFrom(config),
    ...(opts.webDir ? { webDir: opts.webDir } : {}),
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    ...(logger ? { loggerInstance: logger } : {}),
  });
  defer(() => app.close());
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  // Where the other instances forward mutations while this one leads (0.0.0.0 is no address to reach).
  const reachable = host === '0.0.0.0' || host === '[::]' ? hostname() : host;
  services.control?.setUrl(config.ADVERTISE_URL ?? `http://${reachable}:${port}`, config.CONSOLE_URL ?? null);
  return { app, url: `http://${host}:${port}` };
}
