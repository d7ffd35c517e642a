/**
 * Launches and supervises a real local ZooKeeper ensemble as plain Java processes (one JVM per
 * server), for development, demos and integration tests.
 *
 * Layout, per node `<name>`:
 *   <dataDir>/<name>/            ZooKeeper's dataDir (myid, version-2/ snapshots + txn logs). Kept
 *                                across restarts: the ensemble's data is persistent.
 *   <dataDir>/<name>/conf/       zoo.cfg, log4j.properties, logback.xml, regenerated at every start.
 *   <logsDir>/<name>/zookeeper.log  the server's own rolling log
 *   <logsDir>/<name>/stdout.log     the JVM's stdout+stderr (console log, crashes, JVM errors)
 *
 * With dynamic reconfiguration (the default for 2+ nodes) conf/ also holds the membership:
 *   zoo.cfg.dynamic.0            the seed this launcher writes before a node's first start
 *   zoo.cfg.dynamic.<version>    written by ZooKeeper at every committed config (the first leader
 *                                re-stamps the seed with its epoch's zxid); the newest one is used at
 *                                the next start, so ZooKeeper's membership survives restarts
 *
 * Facts this code relies on (measured with Debian's ZooKeeper 3.8.0 on Java 17, see
 * /work/shared/NOTES-machine.md): quorum forms ~1 s after launch; SIGTERM shutdown takes > 1.5 s;
 * restarting on the same ports before the old PID is gone gives BindException; during an election
 * `srvr` answers "not currently serving requests" while `ruok` still answers "imok".
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, type ServerRole, type ZkServerStats } from '@zkha/core';
import { probeEnsemble, renderServerLines, type ZkAuth } from '@zkha/zk';
import { validateSpecs, type EnsembleNodeSpec } from './node-spec.ts';
import {
  fileSize,
  isAlive,
  newRuntime,
  spawnJvm,
  STOP_GRACE_MS,
  tailFile,
  terminate,
  type NodeExitInfo,
  type NodeRuntime,
} from './node-process.ts';
import { resolveOptions, type ResolvedOptions, type StartLocalEnsembleOptions } from './options.ts';
import { busyPorts } from './ports.ts';
import { isLeaderMode, waitForQuorum, waitForPortsFree, waitListening } from './readiness.ts';

export interface LocalEnsembleEvents {
  exit: [NodeExitInfo];
  unexpectedExit: [NodeExitInfo];
}

/** Signals that end a ZooKeeper JVM (SIGSTOP/SIGQUIT do not, so they are not accepted here). */
export type TerminatingSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT' | 'SIGHUP';

const START_ATTEMPTS = 4;

/**
 * A running local ensemble. Events:
 * - 'exit' (info: NodeExitInfo) for every JVM exit;
 * - 'unexpectedExit' (info: NodeExitInfo) only for exits nobody asked for (crash, OOM, external kill).
 */
export class LocalEnsemble extends EventEmitter<LocalEnsembleEvents> {
  readonly host: string;
  private members: EnsembleNodeSpec[];
  private readonly runtimes = new Map<string, NodeRuntime>();
  private stopping: Promise<void> | null = null;

  /** @internal use startLocalEnsemble */
  constructor(
    nodes: readonly EnsembleNodeSpec[],
    private readonly dirs: { dataDir: string; logsDir: string },
    private readonly opts: ResolvedOptions,
  ) {
    super();
    this.members = nodes.map((n) => ({ ...n }));
    this.host = opts.host;
    for (const spec of this.members) this.runtimes.set(spec.name, newRuntime(spec, dirs));
  }

  /**
   * The nodes this launcher runs, in the order they were given (added nodes last). Changes with
   * addNode/forgetNode, so read it at the time of use.
   */
  get nodes(): readonly EnsembleNodeSpec[] {
    return this.members;
  }

  /** `host:port,...` of every node (read at the time of use: membership can change). */
  get connectionString(): string {
    return this.members.map((n) => `${this.host}:${n.clientPort}`).join(',');
  }

  /** Whether the servers run with dynamic reconfiguration (reconfigEnabled + dynamicConfigFile). */
  get reconfigEnabled(): boolean {
    return this.opts.reconfig;
  }

  /**
   * ZooKeeper's `super` user for this ensemble (`addAuthInfo('digest', 'super:<password>')`): what a
   * reconfig session authenticates with. Keep it out of logs and API answers.
   */
  get superAuth(): ZkAuth {
    return { scheme: 'digest', auth: `super:${this.opts.superPassword}` };
  }

  /**
   * Registers a new node and starts its JVM, seeded with `dynamicConfig` (the ensemble's current
   * `server.N=...` lines plus the new node's own, which is how ZooKeeper expects a joining server to
   * start). Resolves once it listens; it then syncs with the leader as a non-voting learner until a
   * `reconfig -add` makes it a member (see addServer in membership-changes.ts). Default seed: this launcher's
   * node list plus the new node. Any dynamic config left in the node's conf folder by an earlier life
   * is discarded: it describes a membership the node has left. On failure the node is forgotten again.
   */
  async addNode(spec: EnsembleNodeSpec, opts: { dynamicConfig?: string; timeoutMs?: number } = {}): Promise<void> {
    if (!this.opts.reconfig) {
      throw new AppError('NOT_SUPPORTED', 'this ensemble runs without dynamic reconfiguration: it cannot grow while serving', {
        node: spec.name,
      });
    }
    const copy = { ...spec };
    validateSpecs([...this.members, copy]);
    const busy = await busyPorts(this.host, copy);
    if (busy.length > 0) {
      throw new AppError('CONFLICT', `cannot add ${copy.name}, ports already in use: ${busy.join('; ')}`, { node: copy.name, busy });
    }
    const rt = newRuntime(copy, this.dirs);
    fs.mkdirSync(rt.confDir, { recursive: true });
    for (const f of fs.readdirSync(rt.confDir)) {
      if (f.startsWith('zoo.cfg.dynamic')) fs.rmSync(path.join(rt.confDir, f), { force: true });
    }
    rt.seedConfig = opts.dynamicConfig ?? `${renderServerLines([...this.members, copy], this.host).join('\n')}\n`;
    // A new array, not push: a caller holding the old `nodes` keeps a consistent snapshot.
    this.members = [...this.members, copy];
    this.runtimes.set(copy.name, rt);
    try {
      await this.startNode(copy.name, opts.timeoutMs);
    } catch (err) {
      await terminate(rt, 'SIGKILL', STOP_GRACE_MS);
      this.members = this.members.filter((n) => n !== copy);
      this.runtimes.delete(copy.name);
      throw err;
    }
  }

  /**
   * Drops a stopped node from this launcher (after `reconfig -remove` and stopNode). Its data stays
   * on disk unless `deleteData`. Throws CONFLICT while its JVM runs.
   */
  forgetNode(name: string, opts: { deleteData?: boolean } = {}): void {
    const rt = this.rt(name);
    if (rt.child && isAlive(rt.child)) {
      throw new AppError('CONFLICT', `node ${name} is still running: stop it before forgetting it`, { node: name });
    }
    this.members = this.members.filter((n) => n.name !== name);
    this.runtimes.delete(name);
    if (opts.deleteData) fs.rmSync(rt.dataDir, { recursive: true, force: true });
  }

  /** Records a node's role after a reconfig changed it (waitForQuorum counts only participants' votes). */
  setNodeRole(name: string, role: ServerRole): void {
    this.rt(name).spec.role = role;
  }

  /** host/port/name of every node, the shape probeServer/probeEnsemble take. */
  get probeTargets(): { name: string; host: string; port: number }[] {
    return this.nodes.map((n) => ({ name: n.name, host: this.host, port: n.clientPort }));
  }

  /** Data directory (ZooKeeper dataDir) and log directory of a node. */
  paths(name: string): { dataDir: string; confDir: string; logDir: string; stdoutLog: string; zookeeperLog: string } {
    const rt = this.rt(name);
    return {
      dataDir: rt.dataDir,
      confDir: rt.confDir,
      logDir: rt.logDir,
      stdoutLog: rt.stdoutLog,
      zookeeperLog: path.join(rt.logDir, 'zookeeper.log'),
    };
  }

  pid(name: string): number | null {
    const child = this.rt(name).child;
    return child && isAlive(child) ? (child.pid ?? null) : null;
  }

  isRunning(name: string): boolean {
    const child = this.rt(name).child;
    return child !== null && isAlive(child);
  }

  /** Graceful stop: SIGTERM, wait up to ~10 s for the JVM to exit, then SIGKILL. No-op when not running. */
  async stopNode(name: string): Promise<void> {
    const rt = this.rt(name);
    await terminate(rt, 'SIGTERM', STOP_GRACE_MS);
  }

  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit (SIGKILL after ~10 s if ignored). */
  async killNode(name: string, signal: TerminatingSignal = 'SIGKILL'): Promise<void> {
    const rt = this.rt(name);
    await terminate(rt, signal, STOP_GRACE_MS);
  }

  /**
   * Starts a stopped node again with the same config, ports and data. Resolves once the JVM
   * listens on its client port (`ruok` → `imok`); it may still be joining the quorum (use
   * waitForQuorum). Waits for lingering ports and retries a BindException a few times (a JVM that
   * exits during start-up is also reported as 'unexpectedExit'). No-op when the node is already
   * running; concurrent calls share one start.
   */
  startNode(name: string, timeoutMs = 30_000): Promise<void> {
    const rt = this.rt(name);
    if (rt.starting) return rt.starting;
    if (rt.child && isAlive(rt.child)) return Promise.resolve();
    const p = this.startRuntime(rt, timeoutMs).finally(() => {
      rt.starting = null;
    });
    rt.starting = p;
    return p;
  }

  private async startRuntime(rt: NodeRuntime, timeoutMs: number): Promise<void> {
    const name = rt.spec.name;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      // Ports of a just-stopped JVM can stay busy for a moment after its PID is gone.
      await waitForPortsFree(rt, this.host, Math.min(10_000, Math.max(0, deadline - Date.now())));
      const startOffset = fileSize(rt.stdoutLog);
      this.spawnJvm(rt);
      try {
        await waitListening(rt, this.host, Math.max(1000, deadline - Date.now()));
        return;
      } catch (err) {
        lastError = err;
        const log = tailFile(rt.stdoutLog, 200, startOffset);
        const bindFailure = /BindException|Address already in use/.test(log) || rt.child?.exitCode === 14;
        if (rt.child && isAlive(rt.child)) await terminate(rt, 'SIGKILL', STOP_GRACE_MS);
        if (!bindFailure || Date.now() >= deadline) break;
        await sleep(500 * attempt);
      }
    }
    throw lastError instanceof Error ? lastError : new AppError('INTERNAL', `could not start ZooKeeper node ${name}`, { node: name });
  }

  /**
   * Starts every node that is not running (in parallel) and waits for the quorum. Used by
   * startLocalEnsemble, and to bring the ensemble back after stop() on the same data.
   */
  async start(timeoutMs = this.opts.quorumTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // allSettled, not all: every spawn must have finished before a failure stops the ensemble,
    // or a JVM spawned after stop() would be left running.
    const results = await Promise.allSettled(this.nodes.map((n) => this.startNode(n.name, timeoutMs)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.waitForQuorum(Math.max(1000, deadline - Date.now()));
  }

  /** stopNode then startNode. */
  async restartNode(name: string, timeoutMs = 30_000): Promise<void> {
    await this.stopNode(name);
    await this.startNode(name, timeoutMs);
  }

  /**
   * Waits until the running nodes form a quorum: a majority of the ensemble is running, every
   * running node serves, exactly one is leader and the others are followers. Returns the leader's
   * name. Throws AppError('NO_QUORUM') with the tail of each node's log on timeout.
   */
  async waitForQuorum(timeoutMs = 30_000): Promise<string> {
    return waitForQuorum(
      { host: this.host, members: () => this.members, isRunning: (name) => this.isRunning(name), logTails: () => this.logTails() },
      timeoutMs,
    );
  }

  /** Name of the node that currently says `Mode: leader` (or standalone), or null (none, or an election is running). */
  async leader(): Promise<string | null> {
    const stats = await probeEnsemble(this.probeTargets, 1000);
    const leaders = stats.filter((s) => s.up && isLeaderMode(s.mode));
    return leaders.length === 1 && leaders[0] ? leaders[0].node : null;
  }

  /** srvr+mntr of every node (down nodes included, up:false). */
  probe(timeoutMs = 2000): Promise<ZkServerStats[]> {
    return probeEnsemble(this.probeTargets, timeoutMs);
  }

  /** Stops every node (in parallel, graceful with SIGKILL fallback). Safe to call any number of times. */
  stop(): Promise<void> {
    this.stopping ??= Promise.all([...this.runtimes.values()].map((rt) => terminate(rt, 'SIGTERM', STOP_GRACE_MS))).then(() => undefined);
    const p = this.stopping;
    // A later startNode() makes the ensemble stoppable again.
    void p.finally(() => {
      if (this.stopping === p) this.stopping = null;
    });
    return p;
  }

  /** The last lines of every node's stdout.log, for error messages. */
  logTails(lines = 15): string {
    return [...this.runtimes.values()]
      .map((rt) => `--- ${rt.spec.name} (${rt.stdoutLog}) ---\n${tailFile(rt.stdoutLog, lines) || '(empty)'}`)
      .join('\n');
  }

  // -------------------------------------------------------------------------------------------

  // -------------------------------------------------------------------------------------------

  private rt(name: string): NodeRuntime {
    const rt = this.runtimes.get(name);
    if (!rt) {
      throw new AppError('NODE_NOT_FOUND', `unknown ZooKeeper node "${name}"`, {
        node: name,
        nodes: this.nodes.map((n) => n.name),
      });
    }
    return rt;
  }

  private spawnJvm(rt: NodeRuntime): void {
    spawnJvm(rt, this.members, this.opts, (info) => {
      this.emit('exit', info);
      if (!info.expected) this.emit('unexpectedExit', info);
    });
  }
}

/**
 * Writes each node's config and starts every JVM, then waits for a quorum (one leader, the rest
 * followers). Data directories that already exist are reused (persistent data). Fails fast, and
 * stops whatever it started, when a port is already in use, java/ZooKeeper are missing, a JVM exits
 * during start-up, or no quorum forms within `quorumTimeoutMs` (the error carries the log tails).
 */
export async function startLocalEnsemble(opts: StartLocalEnsembleOptions): Promise<LocalEnsemble> {
  validateSpecs(opts.nodes);
  const resolved = resolveOptions(opts);
  const host = resolved.host;

  // Clear message up front instead of a BindException buried in a log file.
  const conflicts: string[] = [];
  for (const n of opts.nodes) {
    for (const b of await busyPorts(host, n)) conflicts.push(`${n.name} ${b}`);
  }
  if (conflicts.length > 0) {
    throw new AppError(
      'CONFLICT',
      `cannot start the ZooKeeper ensemble, ports already in use: ${conflicts.join('; ')} ` +
        '(another ZooKeeper still running? check `pgrep -af QuorumPeerMain`)',
      { conflicts },
    );
  }

  const ensemble = new LocalEnsemble(opts.nodes, { dataDir: opts.dataDir, logsDir: opts.logsDir }, resolved);
  try {
    await ensemble.start();
    return ensemble;
  } catch (err) {
    await ensemble.stop();
    throw err;
  }
}
