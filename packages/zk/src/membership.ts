/**
 * Dynamic membership of a ZooKeeper ensemble: reading it (/zookeeper/config and every server's own
 * view through `conf`) and telling when the servers are in sync (`mntr`). Adding or removing a server
 * of the embedded ensemble starts and stops JVMs, so it lives with the launcher (@zkha/zk-local).
 *
 * Facts measured with Debian's ZooKeeper 3.8.0 (2 cores, loopback) that shape this code:
 * - a joining server started with "current config + itself" syncs as a non-voting follower in ~0.5 s
 *   after it listens, and answers `conf` with the ensemble's config (without itself) until the reconfig;
 * - a reconfig commits in ~0.1 s; every server writes `zoo.cfg.dynamic.<version>` and rewrites zoo.cfg;
 * - removing the leader: the reply is lost (the server the request went through drops its clients
 *   while a new leader takes over, ~0.3 s), so the outcome is read back from /zookeeper/config;
 * - a removed server keeps running, first still calling itself leader (~2 s) then a non-voting
 *   follower that serves reads: it must be stopped, or clients keep using it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, quorumFigures, type QuorumFigures, type ServerRole, type ZkMode } from '@zkha/core';
import { ZkClient } from './client.ts';
import { parseConfMembership, parseDynamicConfig, sameMembership, type DynamicConfig } from './dynamic-config.ts';
import { fourLetterWord, NOT_SERVING_MESSAGE, parseMntr, parseSrvr, toZkMode } from './four-letter.ts';

/** A member of the config, addressed for four-letter words. */
export interface MemberTarget {
  id: number;
  /** Our name for it (zk1...), or `server.<id>` when unknown. */
  name: string;
  role: ServerRole;
  host: string;
  /** Client port (where four-letter words go). */
  port: number;
}

/** Names by server id, e.g. from a LocalEnsemble's nodes. */
export type ServerNames = ReadonlyMap<number, string> | readonly { id: number; name: string }[];

function nameOf(names: ServerNames | undefined, id: number): string {
  if (!names) return `server.${id}`;
  if (Array.isArray(names)) return (names as readonly { id: number; name: string }[]).find((n) => n.id === id)?.name ?? `server.${id}`;
  return (names as ReadonlyMap<number, string>).get(id) ?? `server.${id}`;
}

/** The members of a config with the addresses four-letter words go to (the client address of each line). */
export function memberTargets(config: DynamicConfig, names?: ServerNames): MemberTarget[] {
  return config.servers.map((s) => ({
    id: s.id,
    name: nameOf(names, s.id),
    role: s.role,
    // A wildcard client address (`;2181` or 0.0.0.0) is reached on the peer address.
    host: s.clientHost && s.clientHost !== '0.0.0.0' && s.clientHost !== '::' ? s.clientHost : s.host,
    port: s.clientPort ?? 0,
  }));
}

// ---------------------------------------------------------------------------------------------
// Reading the membership

/** The committed config as a session sees it (/zookeeper/config is world-readable). */
export async function readConfig(client: Pick<ZkClient, 'get'>): Promise<DynamicConfig> {
  const node = await client.get('/zookeeper/config');
  return parseDynamicConfig(node.data ? node.data.toString('utf8') : '');
}

/** What one server says about itself and the membership. */
export interface ServerView {
  id: number | null;
  name: string;
  /** Role in /zookeeper/config; null for a server that is not a member (a joining or removed one). */
  role: ServerRole | null;
  host: string;
  port: number;
  reachable: boolean;
  /** srvr Mode (leader, follower, observer); `unknown` while not serving. */
  mode: ZkMode;
  /** The config version this server holds (its `conf`), null when it did not answer. */
  configVersion: string | null;
  /** Its membership (`conf`), null when it did not answer. */
  config: DynamicConfig | null;
  /** Holds exactly the committed config (same version and members). */
  agrees: boolean;
  /** Why not, in words ("holds version 100000005, committed is 10000000a"). */
  difference: string | null;
  error: string | null;
}

export interface MembershipView {
  /** /zookeeper/config as read through the session. */
  config: DynamicConfig;
  version: string;
  voters: MemberTarget[];
  observers: MemberTarget[];
  quorum: QuorumFigures;
  /** Every member of the config, then any extra server asked about. */
  servers: ServerView[];
  /** Servers whose view differs from the committed config (or that did not answer). */
  divergent: ServerView[];
  /** Name of the server that says it leads, when exactly one does. */
  leader: string | null;
}

async function viewOf(
  target: { id: number | null; name: string; host: string; port: number },
  role: ServerRole | null,
  committed: DynamicConfig,
  timeoutMs: number,
): Promise<ServerView> {
  const base: ServerView = {
    id: target.id,
    name: target.name,
    role,
    host: target.host,
    port: target.port,
    reachable: false,
    mode: 'unknown',
    configVersion: null,
    config: null,
    agrees: false,
    difference: null,
    error: null,
  };
  const [conf, srvr] = await Promise.allSettled([
    fourLetterWord(target.host, target.port, 'conf', timeoutMs),
    fourLetterWord(target.host, target.port, 'srvr', timeoutMs),
  ]);
  if (conf.status === 'rejected' && srvr.status === 'rejected') {
    return { ...base, error: conf.reason instanceof Error ? conf.reason.message : String(conf.reason), difference: 'not reachable' };
  }
  const mode = srvr.status === 'fulfilled' ? parseSrvr(srvr.value).mode : 'unknown';
  const confText = conf.status === 'fulfilled' ? conf.value : '';
  const own = parseConfMembership(confText);
  if (!own) {
    const notServing = confText.includes(NOT_SERVING_MESSAGE);
    return {
      ...base,
      reachable: true,
      mode,
      error: notServing ? 'not currently serving requests' : 'no membership in its conf answer',
      difference: notServing ? 'not serving' : 'membership unknown',
    };
  }
  let difference: string | null = null;
  if (own.version !== committed.version) difference = `holds version ${own.version}, committed is ${committed.version}`;
  else if (!sameMembership(own, committed)) difference = `same version ${own.version} but other members`;
  else if (role === null) difference = 'not a member of the committed config';
  return { ...base, reachable: true, mode, configVersion: own.version, config: own, agrees: difference === null, difference };
}

/**
 * Reads the membership: /zookeeper/config through `client`, then `conf` and `srvr` of every member
 * (and of `extra` servers, e.g. a joining node), and flags every server whose view differs from the
 * committed config. Never throws for a down server (it is listed, divergent, with its error).
 */
export async function readMembership(
  client: Pick<ZkClient, 'get'>,
  opts: { names?: ServerNames; extra?: readonly { name: string; host: string; port: number }[]; timeoutMs?: number } = {},
): Promise<MembershipView> {
  const config = await readConfig(client);
  const targets = memberTargets(config, opts.names);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const known = new Set(targets.map((t) => `${t.host}:${t.port}`));
  const extra = (opts.extra ?? []).filter((e) => !known.has(`${e.host}:${e.port}`));
  const servers = await Promise.all([
    ...targets.map((t) => viewOf(t, t.role, config, timeoutMs)),
    ...extra.map((e) => viewOf({ id: null, ...e }, null, config, timeoutMs)),
  ]);
  const leaders = servers.filter((s) => s.mode === 'leader' && s.role !== null);
  return {
    config,
    version: config.version,
    voters: targets.filter((t) => t.role === 'participant'),
    observers: targets.filter((t) => t.role === 'observer'),
    quorum: quorumFigures(config.servers),
    servers,
    divergent: servers.filter((s) => !s.agrees),
    leader: leaders.length === 1 && leaders[0] ? leaders[0].name : null,
  };
}

// ---------------------------------------------------------------------------------------------
// In sync?

export interface ServerSyncState {
  id: number;
  name: string;
  role: ServerRole;
  up: boolean;
  mode: ZkMode;
  /** mntr zk_peer_state, e.g. "following - broadcast" (the Zab phase; broadcast = in sync). */
  peerState: string | null;
  error: string | null;
}

export interface EnsembleSyncState {
  /** One leader in broadcast, every other member following/observing in broadcast, all synced to the leader. */
  inSync: boolean;
  leader: string | null;
  /** Leader's mntr zk_synced_followers / zk_synced_observers. */
  syncedFollowers: number | null;
  syncedObservers: number | null;
  /** Why not in sync, in words. */
  reason: string | null;
  servers: ServerSyncState[];
}

async function syncStateOf(m: MemberTarget, timeoutMs: number): Promise<ServerSyncState & { mntr: Record<string, number | string> }> {
  const base = { id: m.id, name: m.name, role: m.role, up: false, mode: 'unknown' as ZkMode, peerState: null, error: null, mntr: {} };
  let text: string;
  try {
    text = await fourLetterWord(m.host, m.port, 'mntr', timeoutMs);
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) };
  }
  if (text.includes(NOT_SERVING_MESSAGE) || !text.trim()) return { ...base, error: 'not currently serving requests' };
  const mntr = parseMntr(text);
  const state = typeof mntr.zk_server_state === 'string' ? mntr.zk_server_state : null;
  const peerState = typeof mntr.zk_peer_state === 'string' ? mntr.zk_peer_state : null;
  return { ...base, up: true, mode: toZkMode(state), peerState, mntr };
}

/**
 * One look at every member's `mntr`: in sync means exactly one leader in Zab's broadcast phase, every
 * other member following (participants) or observing (observers) in broadcast, and the leader
 * counting all of them as synced (zk_synced_followers = voters - 1, zk_synced_observers = observers).
 */
export async function probeSync(members: readonly MemberTarget[], timeoutMs = 1500): Promise<EnsembleSyncState> {
  const states = await Promise.all(members.map((m) => syncStateOf(m, timeoutMs)));
  const servers: ServerSyncState[] = states.map(({ mntr: _mntr, ...s }) => s);
  const leaders = states.filter((s) => s.up && s.mode === 'leader');
  const leader = leaders.length === 1 ? leaders[0] : undefined;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const syncedFollowers = leader ? num(leader.mntr.zk_synced_followers) : null;
  const syncedObservers = leader ? num(leader.mntr.zk_synced_observers) : null;
  const voters = members.filter((m) => m.role === 'participant').length;
  const observers = members.length - voters;
  let reason: string | null = null;
  const down = states.filter((s) => !s.up);
  if (down.length > 0) reason = `not serving: ${down.map((s) => `${s.name} (${s.error ?? '?'})`).join(', ')}`;
  else if (leaders.length !== 1) reason = leaders.length === 0 ? 'no leader' : `${leaders.length} servers say they lead`;
  else if (leader && leader.peerState !== 'leading - broadcast') reason = `leader ${leader.name} is in "${leader.peerState ?? '?'}"`;
  else {
    const wrong = states.filter((s) => {
      if (s === leader) return false;
      const expected = s.role === 'observer' ? 'observer' : 'follower';
      return s.mode !== expected || !(s.peerState ?? '').endsWith('- broadcast');
    });
    if (wrong.length > 0) reason = `not in broadcast: ${wrong.map((s) => `${s.name} (${s.mode}, ${s.peerState ?? '?'})`).join(', ')}`;
    else if (leader?.role === 'observer') reason = `${leader.name} leads but is an observer in the config`;
    else if ((syncedFollowers ?? -1) < voters - 1) reason = `leader has ${syncedFollowers ?? '?'} synced followers of ${voters - 1}`;
    else if (observers > 0 && (syncedObservers ?? -1) < observers)
      reason = `leader has ${syncedObservers ?? '?'} synced observers of ${observers}`;
  }
  return { inSync: reason === null, leader: leader?.name ?? null, syncedFollowers, syncedObservers, reason, servers };
}

/**
 * Polls probeSync until the members are in sync (and, with `version`, every one of them holds that
 * config version in its `conf`). Throws AppError NO_QUORUM with the last reason on timeout.
 */
export async function waitInSync(
  members: readonly MemberTarget[],
  opts: { timeoutMs?: number; intervalMs?: number; version?: string } = {},
): Promise<EnsembleSyncState> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: EnsembleSyncState | null = null;
  for (;;) {
    last = await probeSync(members);
    if (last.inSync && opts.version !== undefined) {
      const versions = await Promise.all(
        members.map((m) =>
          fourLetterWord(m.host, m.port, 'conf', 1500)
            .then((t) => parseConfMembership(t)?.version ?? null)
            .catch(() => null),
        ),
      );
      const behind = members.filter((_, i) => versions[i] !== opts.version);
      if (behind.length > 0)
        last = { ...last, inSync: false, reason: `not yet on config ${opts.version}: ${behind.map((m) => m.name).join(', ')}` };
    }
    if (last.inSync) return last;
    if (Date.now() >= deadline) break;
    await sleep(opts.intervalMs ?? 100);
  }
  throw new AppError('NO_QUORUM', `ensemble not in sync after ${opts.timeoutMs ?? 60_000} ms: ${last?.reason ?? '?'}`, {
    state: last,
  });
}
