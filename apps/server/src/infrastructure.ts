/**
 * What a zkha instance may start besides itself on the embedded default: the ZooKeeper ensemble and one storage
 * agent per node. Shared by boot() (one instance runs them, as `npm start` does) and start-ha.ts (the launcher runs
 * them, so that any of its instances can die without taking the ensemble with it).
 */
import path from 'node:path';

import { AgentSupervisor, loadToken, STORES_ROOT } from '@zkha/agent';
import type { EnsembleMember } from '@zkha/services';
import type { ZkDigestCredentials, ZkSession } from '@zkha/zk';
import { resolveBootMembership, startLocalEnsemble, type LocalEnsemble } from '@zkha/zk-local';

import type { AppConfig } from './config.ts';

const EMBEDDED_TICK_MS = 1_000;

/** Starts the embedded ensemble: the configured servers, or the membership saved after a change through zkha. */
export async function startEmbeddedEnsemble(config: AppConfig, log: (line: string) => void): Promise<LocalEnsemble> {
  const names = config.ZK_NODE_NAMES;
  log(
    `starting an embedded ${names.length}-node ZooKeeper ensemble (client ports ${config.ZK_CLIENT_PORT_BASE}-${config.ZK_CLIENT_PORT_BASE + names.length - 1})`,
  );
  const started = Date.now();
  const configured = names.map((name, i) => ({
    name,
    id: i + 1,
    clientPort: config.ZK_CLIENT_PORT_BASE + i,
    quorumPort: config.ZK_QUORUM_PORT_BASE + i,
    electionPort: config.ZK_ELECTION_PORT_BASE + i,
    adminPort: config.ZK_ADMIN_PORT_BASE + i,
  }));
  // Once servers were added or removed through zkha, the saved membership (checked against ZooKeeper's
  // newest dynamic config) decides which servers start, not ZK_NODE_NAMES.
  const bootMembership = resolveBootMembership(configured, path.resolve(config.ZK_DATA_DIR), (id) => config.ZK_ADMIN_PORT_BASE + id - 1);
  if (bootMembership.source === 'saved') {
    log(
      `ZooKeeper membership from ${path.join(path.resolve(config.ZK_DATA_DIR), 'membership.json')}${bootMembership.configVersion ? ` and config version ${bootMembership.configVersion}` : ''}: ${bootMembership.nodes.map((n) => `${n.name}${n.role === 'observer' ? ' (observer)' : ''}`).join(', ')}`,
    );
  }
  const ensemble = await startLocalEnsemble({
    nodes: bootMembership.nodes,
    dataDir: path.resolve(config.ZK_DATA_DIR),
    logsDir: path.resolve(config.LOGS_DIR),
    ...(config.ZK_HOME ? { zkHome: config.ZK_HOME } : {}),
    // A session expires at the first tick past its timeout: a 1 s tick bounds how long a dead zkha leader (or a
    // dead agent) outlives its session timeout to 1 s. Sessions may still last as long as ZK_SESSION_TIMEOUT allows.
    tickTime: EMBEDDED_TICK_MS,
    extraConfig: { maxSessionTimeout: 60_000 },
  });
  log(`quorum formed in ${Date.now() - started} ms; leader ${(await ensemble.leader()) ?? '?'}`);
  return ensemble;
}

/** The members of a running embedded ensemble, as ZK_NODES would name them. */
export function membersOf(ensemble: LocalEnsemble): EnsembleMember[] {
  return ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }));
}

/**
 * The storage nodes and the server each one's agent holds its session on. They are the configured servers
 * (ZK_NODE_NAMES on the embedded default): a server added to the ensemble later carries no storage, and a
 * configured one that has left it keeps its storage node, whose agent then opens its session on the whole
 * ensemble rather than on its own (stopped) server.
 */
export function storageMembersOf(config: AppConfig, members: readonly EnsembleMember[], embedded: boolean): { name: string; zk: string }[] {
  const allServers = members.map((m) => `${m.host}:${m.port}`).join(',');
  return (embedded ? config.ZK_NODE_NAMES : members.map((m) => m.name)).map((name) => {
    const m = members.find((x) => x.name === name);
    return { name, zk: m ? `${m.host}:${m.port}` : allServers };
  });
}

/** Where a generated agent token is kept (mode 0600), next to the database. */
export function agentTokenFile(config: AppConfig): string {
  return config.AGENT_TOKEN_FILE ?? path.join(path.dirname(path.resolve(config.DATABASE_PATH)), 'agent-token');
}

/**
 * The agents' token: AGENT_TOKEN, else AGENT_TOKEN_FILE, else (only where zkha starts the agents itself) one
 * generated at first start and kept beside the database. Null when it must be given and is not. Never logged.
 */
export async function resolveAgentToken(config: AppConfig): Promise<string | null> {
  if (config.AGENT_TOKEN) return config.AGENT_TOKEN;
  if (!config.AGENT_TOKEN_FILE && !config.AGENTS_ENABLED) return null;
  return (await loadToken({ tokenFile: agentTokenFile(config), stateDir: '', env: {} })).token;
}

/**
 * One storage agent per node, each with its own session on its own node's server only: when that server goes,
 * the agent's session expires and its alive znode with it. Not started yet.
 */
export function agentSupervisorFor(
  config: AppConfig,
  storageMembers: readonly { name: string; zk: string }[],
  auth: ZkDigestCredentials | null,
  token: string,
): AgentSupervisor {
  return new AgentSupervisor({
    agents: storageMembers.map((m) => ({
      node: m.name,
      zk: m.zk,
      folder: path.join(path.resolve(config.FILE_STORAGE_PATH), m.name),
      logFile: path.join(path.resolve(config.LOGS_DIR), m.name, 'agent.log'),
      // The agent enforces the node's capacity on its own API too (the control plane does on its writes).
      capacityBytes: config.STORAGE_NODE_CAPACITIES[m.name] ?? config.STORAGE_NODE_CAPACITY,
    })),
    sessionTimeoutMs: config.AGENT_SESSION_TIMEOUT,
    zkAuth: auth,
    heartbeatIntervalMs: config.AGENT_HEARTBEAT_MS,
    restartDelayMs: config.AGENT_RESTART_DELAY_MS,
    dataApi: { host: '127.0.0.1', token },
  });
}

/**
 * Waits until each of `nodes` has an agent registered (its alive znode), polling; errors count as not yet. False
 * when `timeoutMs` passes first.
 */
export async function waitForAgents(session: ZkSession, nodes: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(nodes.map((n) => session.client.exists(`${STORES_ROOT}/${n}/alive`)))
      .then((seen) => seen.every(Boolean))
      .catch(() => false);
    if (all) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
