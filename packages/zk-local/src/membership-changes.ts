/**
 * Adding or removing a server of the embedded ensemble (start the JVM, `reconfig`, stop the JVM) and
 * turning an observer into a participant, behind the guards of @zkha/core's checkMembershipChange.
 * The facts these steps rely on are listed in @zkha/zk's membership.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppError,
  assertMembershipChange,
  type MembershipChangeCheck,
  type MembershipGuardOptions,
  type MemberState,
  type ServerRole,
} from '@zkha/core';
import {
  fourLetterWord,
  memberTargets,
  parseSrvr,
  probeSync,
  readConfig,
  reconfig,
  renderServerLine,
  waitInSync,
  ZkClient,
  type DynamicConfig,
  type ReconfigChange,
  type ServerNames,
  type ZkAuth,
} from '@zkha/zk';
import type { LocalEnsemble } from './local-ensemble.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';

export interface MembershipChangeOptions {
  /** Yes to a change the guards flag (an even number of voters after it). */
  confirmed?: boolean;
  guard?: MembershipGuardOptions;
  /** Upper bound for each wait (joining, sync after the change). Default 60000. */
  timeoutMs?: number;
  /** Progress, for logs and the UI ("starting zk4", "reconfig", "waiting for sync"). */
  onStep?: (step: string) => void;
}

export interface MembershipChangeResult {
  /** The guards' verdict: quorum before and after, warnings. */
  check: MembershipChangeCheck;
  before: DynamicConfig;
  after: DynamicConfig;
  /** Leader once the ensemble is in sync on the new config. */
  leader: string | null;
  /** ms spent in each phase. */
  timings: { joinMs: number; reconfigMs: number; syncMs: number; totalMs: number };
}

function namesOf(ensemble: LocalEnsemble): Map<number, string> {
  return new Map(ensemble.nodes.map((n) => [n.id, n.name]));
}

function nodeNamed(ensemble: LocalEnsemble, name: string): LocalEnsemble['nodes'][number] {
  const node = ensemble.nodes.find((n) => n.name === name);
  if (!node) throw new AppError('NODE_NOT_FOUND', `unknown ZooKeeper node "${name}"`, { node: name });
  return node;
}

/** The committed config a change starts from, and the guards' verdict on the change (a refusal throws). */
async function guarded(
  ensemble: LocalEnsemble,
  names: ServerNames,
  change: Parameters<typeof assertMembershipChange>[1],
  opts: MembershipChangeOptions,
): Promise<{ before: DynamicConfig; check: MembershipChangeCheck }> {
  const before = await currentConfig(ensemble.connectionString);
  const check = assertMembershipChange(await memberStates(before, names), change, { ...opts.guard, confirmed: opts.confirmed });
  return { before, check };
}

/** Waits until every member is in sync on `after`, and says what the change did and how long each phase took. */
async function inSync(
  change: { check: MembershipChangeCheck; before: DynamicConfig; after: DynamicConfig; names: ServerNames },
  t: { t0: number; joinMs: number; reconfigStart: number; reconfigEnd: number },
  timeoutMs: number,
): Promise<MembershipChangeResult> {
  const { check, before, after, names } = change;
  const sync = await waitInSync(memberTargets(after, names), { timeoutMs, version: after.version });
  const end = Date.now();
  return {
    check,
    before,
    after,
    leader: sync.leader,
    timings: {
      joinMs: t.joinMs,
      reconfigMs: t.reconfigEnd - t.reconfigStart,
      syncMs: end - t.reconfigEnd,
      totalMs: end - t.t0,
    },
  };
}

/** The committed config, read through a short session on the ensemble's current servers. */
async function currentConfig(connectionString: string): Promise<DynamicConfig> {
  const client = await ZkClient.connect(connectionString, { connectTimeoutMs: 10_000, operationTimeoutMs: 5000 });
  try {
    return await readConfig(client);
  } finally {
    await client.close();
  }
}

/** The guards' input: members of the config with whether each is up and which one leads. */
async function memberStates(config: DynamicConfig, names: ServerNames): Promise<MemberState[]> {
  const sync = await probeSync(memberTargets(config, names));
  return config.servers.map((s, i) => {
    const st = sync.servers[i];
    return { id: s.id, role: s.role, up: st?.up ?? false, leader: st?.name === sync.leader && sync.leader !== null };
  });
}

/**
 * Runs a reconfig and returns the committed config. When the reply is lost (the server it went
 * through dropped its clients, as when the leader is removed), the outcome is read back from
 * /zookeeper/config: `applied(config)` says whether the change is in it.
 */
async function reconfigAndConfirm(
  connectionString: string,
  auth: ZkAuth,
  change: ReconfigChange,
  applied: (config: DynamicConfig) => boolean,
  timeoutMs: number,
): Promise<DynamicConfig> {
  let lost: AppError;
  try {
    return (await reconfig({ connectionString, auth, timeoutMs: Math.min(timeoutMs, 30_000) }, change)).config;
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'ZK_UNAVAILABLE') throw err;
    lost = err;
  }
  // The change may still be committing when the first read comes: look for a while.
  const deadline = Date.now() + Math.min(timeoutMs, 15_000);
  let seen: DynamicConfig | null = null;
  for (;;) {
    try {
      seen = await currentConfig(connectionString);
      if (applied(seen)) return seen;
    } catch {
      // no session yet (election after the change): try again
    }
    if (Date.now() >= deadline) break;
    await sleep(200);
  }
  throw new AppError(
    'ZK_UNAVAILABLE',
    `${lost.message}; the change is not in the committed config${seen ? ` (version ${seen.version})` : ' (could not read it)'}`,
    { ...lost.details, config: seen },
    { cause: lost },
  );
}

/**
 * Grows the embedded ensemble by one server: checks the guards, starts the node's JVM seeded with
 * the committed config plus itself, waits until it has synced as a (non-voting) learner, runs
 * `reconfig -add` (compare-and-set on the config version read first), and waits until every member
 * is in sync on the new config. If the reconfig fails the new JVM is stopped and forgotten again.
 */
export async function addServer(
  ensemble: LocalEnsemble,
  spec: EnsembleNodeSpec,
  opts: MembershipChangeOptions = {},
): Promise<MembershipChangeResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const role = spec.role ?? 'participant';
  const node: EnsembleNodeSpec = { ...spec, role };
  const names = new Map([...namesOf(ensemble), [node.id, node.name]]);
  const { before, check } = await guarded(ensemble, names, { add: [{ id: node.id, role }] }, opts);
  const line = renderServerLine(node, ensemble.host);

  opts.onStep?.(`starting ${node.name} (server.${node.id}, ${role})`);
  await ensemble.addNode(node, { dynamicConfig: `${[...before.servers.map((s) => s.line), line].join('\n')}\n`, timeoutMs });
  let reconfigStart = Date.now();
  let after: DynamicConfig;
  try {
    // Synced with the leader as a learner: it serves (srvr answers with a Mode) only from then on.
    await waitServing(ensemble.host, node.clientPort, timeoutMs);
    reconfigStart = Date.now();
    opts.onStep?.(`reconfig -add ${line}`);
    after = await reconfigAndConfirm(
      ensemble.connectionString,
      ensemble.superAuth,
      { add: [line], fromVersion: before.version },
      (c) => c.servers.some((s) => s.id === node.id && s.role === role),
      timeoutMs,
    );
  } catch (err) {
    await ensemble.stopNode(node.name).catch(() => undefined);
    ensemble.forgetNode(node.name, { deleteData: true });
    throw err;
  }
  const reconfigEnd = Date.now();
  opts.onStep?.(`waiting for ${after.servers.length} servers to sync on config ${after.version}`);
  return inSync({ check, before, after, names }, { t0, joinMs: reconfigStart - t0, reconfigStart, reconfigEnd }, timeoutMs);
}

/**
 * Shrinks the embedded ensemble by one server: checks the guards, runs `reconfig -remove` (leader
 * included: ZooKeeper elects another), stops the JVM and forgets the node (its data is kept unless
 * `deleteData`), then waits until the remaining members are in sync on the new config.
 */
export async function removeServer(
  ensemble: LocalEnsemble,
  name: string,
  opts: MembershipChangeOptions & { deleteData?: boolean } = {},
): Promise<MembershipChangeResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const node = nodeNamed(ensemble, name);
  const names = namesOf(ensemble);
  const { before, check } = await guarded(ensemble, names, { remove: [node.id] }, opts);

  opts.onStep?.(`reconfig -remove ${node.id} (${name})`);
  const reconfigStart = Date.now();
  // Through the other servers: the one being removed drops its clients at the change.
  const others = ensemble.nodes
    .filter((n) => n.name !== name)
    .map((n) => `${ensemble.host}:${n.clientPort}`)
    .join(',');
  const after = await reconfigAndConfirm(
    others,
    ensemble.superAuth,
    { remove: [node.id], fromVersion: before.version },
    (c) => !c.servers.some((s) => s.id === node.id),
    timeoutMs,
  );
  const reconfigEnd = Date.now();
  // A removed server keeps running and serving (as a non-voting follower): stop it.
  opts.onStep?.(`stopping ${name}`);
  await ensemble.stopNode(name);
  ensemble.forgetNode(name, { deleteData: opts.deleteData ?? false });
  opts.onStep?.(`waiting for ${after.servers.length} servers to sync on config ${after.version}`);
  return inSync({ check, before, after, names }, { t0, joinMs: 0, reconfigStart, reconfigEnd }, timeoutMs);
}

/**
 * Turns an observer into a participant or back (`reconfig -add` of the same server with the other
 * role), behind the same guards; the JVM keeps running.
 */
export async function setServerRole(
  ensemble: LocalEnsemble,
  name: string,
  role: ServerRole,
  opts: MembershipChangeOptions = {},
): Promise<MembershipChangeResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const node = nodeNamed(ensemble, name);
  const names = namesOf(ensemble);
  const { before, check } = await guarded(ensemble, names, { add: [{ id: node.id, role }] }, opts);
  const line = renderServerLine({ ...node, role }, ensemble.host);
  opts.onStep?.(`reconfig -add ${line}`);
  const after = await reconfigAndConfirm(
    ensemble.connectionString,
    ensemble.superAuth,
    { add: [line], fromVersion: before.version },
    (c) => c.servers.some((s) => s.id === node.id && s.role === role),
    timeoutMs,
  );
  const reconfigEnd = Date.now();
  ensemble.setNodeRole(name, role);
  return inSync({ check, before, after, names }, { t0, joinMs: 0, reconfigStart: t0, reconfigEnd }, timeoutMs);
}

/** Until the server answers srvr with a Mode (it serves: synced with a leader). */
async function waitServing(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await fourLetterWord(host, port, 'srvr', 1000).catch(() => '');
    const s = parseSrvr(text);
    if (s.serving && s.mode !== 'unknown') return;
    if (Date.now() >= deadline) {
      throw new AppError('NO_QUORUM', `${host}:${port} did not sync with the ensemble within ${timeoutMs} ms`, { host, port });
    }
    await sleep(100);
  }
}
