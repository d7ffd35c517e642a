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
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, NODE_NAME_PATTERN, type ServerRole, type ZkServerStats } from '@zkha/core';
import { parseDynamicConfig, parseServerLine } from './dynamic-config.ts';
import { fourLetterWord, probeEnsemble } from './four-letter.ts';

export interface EnsembleNodeSpec {
  name: string;
  /** ZooKeeper server id (`myid`, `server.<id>`), 1..255. */
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  adminPort: number;
  /**
   * Voting member (`participant`, the default) or non-voting `observer`. Only meaningful with dynamic
   * reconfiguration on; it is the role the node is seeded with, ZooKeeper's /zookeeper/config has the last word.
   */
  role?: ServerRole;
}

/** Credentials for `addAuthInfo(scheme, auth)` on a ZooKeeper session. */
export interface ZkAuth {
  scheme: 'digest';
  /** `user:password`. */
  auth: string;
}

export interface StartLocalEnsembleOptions {
  nodes: EnsembleNodeSpec[];
  /** Data of node <name> lives in <dataDir>/<name>. */
  dataDir: string;
  /** Logs of node <name> go to <logsDir>/<name>/. */
  logsDir: string;
  /** An Apache ZooKeeper install (tarball layout). Default: $ZK_HOME, then Debian's /usr/share/java. */
  zkHome?: string;
  /** Address every port binds to and clients connect to. Default 127.0.0.1. */
  host?: string;
  /** ZooKeeper tickTime in ms. Default 2000 (min session timeout = 2 ticks). */
  tickTime?: number;
  /** How long startLocalEnsemble waits for a leader + followers. Default 30000. */
  quorumTimeoutMs?: number;
  /** JVM flags; replaces DEFAULT_JAVA_OPTS when given (so e.g. a different GC does not clash). */
  javaOpts?: string[];
  /** Extra zoo.cfg keys, written last (e.g. `{ forceSync: 'no' }` for throwaway test data). */
  extraConfig?: Record<string, string | number | boolean>;
  /**
   * Dynamic membership (ZooKeeper >= 3.5 `reconfigEnabled=true`, `standaloneEnabled=false`, membership in a
   * separate `dynamicConfigFile`), so servers can be added and removed while the ensemble serves.
   * Default: on for 2+ nodes; a one-node ensemble stays standalone unless this is true (standalone mode
   * cannot be reconfigured, a one-member quorum can grow).
   */
  reconfig?: boolean;
  /**
   * Password of ZooKeeper's built-in `super` user (the JVMs get only its SHA-1 digest). Reconfig is an
   * ACL-checked write to /zookeeper/config, so it needs it. Default: random per launch, which is enough
   * because every JVM of the ensemble is (re)started by this launcher; read it back from `superAuth`.
   */
  superPassword?: string;
}

/**
 * Small-heap flags measured to give 62-77 MB RSS per server, enough for a control-plane ensemble.
 * - -Xmx256m: the ceiling, not the footprint (-Xms16m, and SerialGC grows the heap only as the tree does). A
 *   tree of 100,000 file znodes (~0.5 KiB each) does not fit in 64 MiB: the leader died of OutOfMemoryError
 *   in the middle of a first publish of the 100k-record bench, and the instance then aligned its database
 *   with the part of the tree that had been written.
 * - SerialGC + C1 only (TieredStopAtLevel=1): fastest start-up and least memory on 2 cores.
 * - ExitOnOutOfMemoryError: a server wedged in OOM still holds its ports and its vote; dead is
 *   better, the supervisor sees the exit.
 * - -UsePerfData: no /tmp/hsperfdata_* files left behind by every test JVM.
 */
export const DEFAULT_JAVA_OPTS: readonly string[] = [
  '-Xms16m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
  '-XX:MaxMetaspaceSize=64m',
  '-XX:+ExitOnOutOfMemoryError',
  '-XX:-UsePerfData',
];

const DEBIAN_JAVA_DIR = '/usr/share/java';
/**
 * Debian's zookeeper.jar carries a manifest Class-Path naming its own dependencies (jute, netty,
 * jetty, jackson, slf4j-api, metrics, ...), so only what the manifest leaves out is listed here:
 * - servlet-api.jar: the AdminServer (jetty) fails with NoClassDefFoundError javax/servlet/Servlet
 *   without it (the server still runs, but /commands/* is gone);
 * - slf4j-log4j12 + log4j-1.2: the slf4j binding; without it ZooKeeper logs nothing at all.
 */
const DEBIAN_JARS = ['zookeeper.jar', 'servlet-api.jar', 'slf4j-log4j12.jar', 'log4j-1.2.jar'] as const;

const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The Java classpath (jars only, ':'-joined) for a ZooKeeper server.
 *
 * With `zkHome` (or $ZK_HOME): every `<zkHome>/lib/*.jar` plus `<zkHome>/zookeeper-*.jar` (older
 * tarballs keep the main jar at the top). Jars are listed explicitly rather than with Java's `lib/*`
 * wildcard so a missing install is reported here, not as a ClassNotFoundException in a log file.
 * Otherwise Debian's jars (`apt-get install zookeeper`) in `javaDir` (default /usr/share/java).
 */
export function findZooKeeperClasspath(zkHome?: string, javaDir: string = DEBIAN_JAVA_DIR): string {
  const home = zkHome ?? process.env.ZK_HOME;
  if (home) {
    const jars: string[] = [];
    const libDir = path.join(home, 'lib');
    for (const dir of [home, libDir]) {
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of entries.sort()) {
        if (!f.endsWith('.jar')) continue;
        if (dir === home && !f.startsWith('zookeeper-')) continue;
        jars.push(path.join(dir, f));
      }
    }
    if (!jars.some((j) => /zookeeper-\d[^/]*\.jar$/.test(path.basename(j)) || path.basename(j) === 'zookeeper.jar')) {
      throw new AppError(
        'NOT_SUPPORTED',
        `no ZooKeeper jars found in ZK_HOME=${home} (expected ${libDir}/zookeeper-<version>.jar): ` +
          'point ZK_HOME at an unpacked Apache ZooKeeper binary release, or `apt-get install zookeeper`',
        { zkHome: home },
      );
    }
    return jars.join(path.delimiter);
  }

  const missing = DEBIAN_JARS.filter((j) => !isFile(path.join(javaDir, j)));
  if (missing.length > 0) {
    throw new AppError(
      'NOT_SUPPORTED',
      `ZooKeeper is not installed: missing ${missing.map((j) => path.join(javaDir, j)).join(', ')}. ` +
        'Run `apt-get install zookeeper` (Debian/Ubuntu) or set ZK_HOME to an Apache ZooKeeper binary release',
      { missing },
    );
  }
  return DEBIAN_JARS.map((j) => path.join(javaDir, j)).join(path.delimiter);
}

/** $JAVA_HOME/bin/java if it exists, else the first `java` on PATH. */
export function findJava(): string {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome) {
    const candidate = path.join(javaHome, 'bin', 'java');
    if (isExecutable(candidate)) return candidate;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'java');
    if (isExecutable(candidate)) return candidate;
  }
  throw new AppError(
    'NOT_SUPPORTED',
    'no java found (JAVA_HOME unset or invalid, none on PATH): `apt-get install default-jre-headless` or set JAVA_HOME',
  );
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** util-linux `setpriv`, used to give each JVM a parent-death signal (see spawnJvm). */
let setprivPath: string | null | undefined;
export function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return setprivPath;
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, 'setpriv');
    if (isExecutable(candidate)) {
      setprivPath = candidate;
      break;
    }
  }
  return setprivPath;
}

// ---------------------------------------------------------------------------------------------
// Config files

/**
 * The membership lines, in the dynamic-config syntax of ZooKeeper >= 3.5
 * (`server.<id>=<host>:<quorum>:<election>:<role>;<clientHost>:<clientPort>`): what goes into a
 * `zoo.cfg.dynamic.<version>` seed and what `reconfig -add` takes. 3.8 accepts it in a static zoo.cfg too.
 */
export function renderServerLines(nodes: readonly EnsembleNodeSpec[], host: string): string[] {
  return [...nodes]
    .sort((a, b) => a.id - b.id)
    .map((n) => renderServerLine(n, host));
}

/** One `server.<id>=...` line of the dynamic config. */
export function renderServerLine(n: EnsembleNodeSpec, host: string): string {
  return `server.${n.id}=${host}:${n.quorumPort}:${n.electionPort}:${n.role ?? 'participant'};${host}:${n.clientPort}`;
}

/**
 * ZooKeeper's digest of a `user:password` pair, as `user:base64(sha1(user:password))`: the value of
 * `-Dzookeeper.DigestAuthenticationProvider.superDigest` (DigestAuthenticationProvider.generateDigest).
 */
export function zkDigest(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** `zoo.cfg.dynamic.<hex version>`: the name ZooKeeper gives the dynamic config files it writes. */
const DYNAMIC_FILE_PATTERN = /^zoo\.cfg\.dynamic\.([0-9a-f]+)$/;

/**
 * The newest dynamic config file ZooKeeper left in a node's conf folder (it writes
 * `zoo.cfg.dynamic.<version>` next to zoo.cfg at every committed reconfig), or null.
 */
export function latestDynamicConfigFile(confDir: string): { file: string; version: bigint } | null {
  let best: { file: string; version: bigint } | null = null;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(confDir);
  } catch {
    return null;
  }
  for (const f of entries) {
    const m = DYNAMIC_FILE_PATTERN.exec(f);
    if (!m?.[1]) continue;
    const version = BigInt(`0x${m[1]}`);
    if (!best || version > best.version) best = { file: path.join(confDir, f), version };
  }
  return best;
}

/**
 * zoo.cfg for one node. Static keys first, membership last.
 *
 * With `dynamicConfigFile` (dynamic reconfiguration on), the membership is not in zoo.cfg at all but
 * in that file, and the client address comes from the node's own `server.N=...;host:port` line
 * (ZooKeeper refuses a static clientPort that disagrees with it and erases it from zoo.cfg after a
 * reconfig anyway). ZooKeeper rewrites zoo.cfg itself after each reconfig to point at the newest
 * `zoo.cfg.dynamic.<version>`; this launcher regenerates zoo.cfg at every start and points it at the
 * newest such file, so ZooKeeper's view of the membership survives restarts.
 */
export function renderZooCfg(
  node: EnsembleNodeSpec,
  all: readonly EnsembleNodeSpec[],
  o: {
    host: string;
    dataDir: string;
    tickTime: number;
    extraConfig?: Record<string, string | number | boolean>;
    dynamicConfigFile?: string;
  },
): string {
  const dynamic = o.dynamicConfigFile !== undefined;
  const lines = [
    '# Generated by @zkha/zk startLocalEnsemble; rewritten at every start.',
    `tickTime=${o.tickTime}`,
    // Followers get initLimit ticks to sync at start and syncLimit ticks of silence before the leader drops them.
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${o.dataDir}`,
    ...(dynamic ? [] : [`clientPort=${node.clientPort}`, `clientPortAddress=${o.host}`]),
    // Monitoring (srvr, mntr, ruok...) is how the control plane sees the servers.
    '4lw.commands.whitelist=*',
    'admin.enableServer=true',
    `admin.serverAddress=${o.host}`,
    `admin.serverPort=${node.adminPort}`,
    // TTL znodes (the explorer creates them). Extended types cap server ids at 254, far above any ensemble here.
    'extendedTypesEnabled=true',
    // Persistent data: keep the last 3 snapshots (+ their logs) and purge hourly so disks do not fill.
    'autopurge.snapRetainCount=3',
    'autopurge.purgeInterval=1',
    // The Prometheus provider is not in Debian's build (ClassNotFoundException): leave metricsProvider unset.
  ];
  if (dynamic) {
    lines.push(
      // Membership changes while serving (`reconfig`). Only the super user may run it (see superAuth):
      // skipACL=yes would also allow it, but it switches off every ACL for every client.
      'reconfigEnabled=true',
      // Without this a one-member ensemble runs standalone, a mode reconfig cannot grow out of.
      'standaloneEnabled=false',
    );
  }
  for (const [k, v] of Object.entries(o.extraConfig ?? {})) lines.push(`${k}=${String(v)}`);
  // A static-config observer must say so itself; with a dynamic config its server line does.
  if (!dynamic && node.role === 'observer') lines.push('peerType=observer');
  if (dynamic) lines.push(`dynamicConfigFile=${o.dynamicConfigFile}`);
  else lines.push(...renderServerLines(all, o.host));
  return `${lines.join('\n')}\n`;
}

/** log4j 1.2 config (Debian's 3.8 build logs through slf4j-log4j12): rolling file + console. */
export function renderLog4jProperties(logDir: string): string {
  const file = path.join(logDir, 'zookeeper.log');
  return [
    'log4j.rootLogger=INFO, CONSOLE, ROLLINGFILE',
    'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
    'log4j.appender.CONSOLE.Threshold=INFO',
    'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n',
    'log4j.appender.ROLLINGFILE=org.apache.log4j.RollingFileAppender',
    'log4j.appender.ROLLINGFILE.Threshold=INFO',
    `log4j.appender.ROLLINGFILE.File=${file}`,
    'log4j.appender.ROLLINGFILE.MaxFileSize=10MB',
    'log4j.appender.ROLLINGFILE.MaxBackupIndex=5',
    'log4j.appender.ROLLINGFILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.ROLLINGFILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n',
    // Each rejected 4lw/probe connection otherwise logs a stack trace at WARN.
    'log4j.logger.org.apache.zookeeper.server.NIOServerCnxn=WARN',
    '',
  ].join('\n');
}

/** The same for logback, which Apache's own 3.8+ releases use (ZK_HOME installs). */
export function renderLogbackXml(logDir: string): string {
  const file = path.join(logDir, 'zookeeper.log');
  const pattern = '%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n';
  return `<configuration>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>${pattern}</pattern></encoder>
  </appender>
  <appender name="ROLLINGFILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${file}</file>
    <encoder><pattern>${pattern}</pattern></encoder>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${file}.%i</fileNamePattern><minIndex>1</minIndex><maxIndex>5</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy"><maxFileSize>10MB</maxFileSize></triggeringPolicy>
  </appender>
  <logger name="org.apache.zookeeper.server.NIOServerCnxn" level="WARN"/>
  <root level="INFO"><appender-ref ref="CONSOLE"/><appender-ref ref="ROLLINGFILE"/></root>
</configuration>
`;
}

// ---------------------------------------------------------------------------------------------
// Validation and ports

function validateSpecs(nodes: readonly EnsembleNodeSpec[]): void {
  if (nodes.length === 0) throw new AppError('BAD_INPUT', 'an ensemble needs at least one node');
  const names = new Set<string>();
  const ids = new Set<number>();
  const ports = new Map<number, string>();
  for (const n of nodes) {
    // Names become folder names: keep them to the shared safe pattern.
    if (!NODE_NAME_PATTERN.test(n.name)) {
      throw new AppError('BAD_INPUT', `invalid node name "${n.name}" (expected ${String(NODE_NAME_PATTERN)})`, {
        node: n.name,
      });
    }
    if (names.has(n.name)) throw new AppError('BAD_INPUT', `duplicate node name "${n.name}"`, { node: n.name });
    names.add(n.name);
    if (!Number.isInteger(n.id) || n.id < 1 || n.id > 255) {
      throw new AppError('BAD_INPUT', `node ${n.name}: id must be an integer in 1..255, got ${n.id}`, { node: n.name });
    }
    if (ids.has(n.id)) throw new AppError('BAD_INPUT', `duplicate server id ${n.id}`, { node: n.name });
    if (n.role !== undefined && n.role !== 'participant' && n.role !== 'observer') {
      throw new AppError('BAD_INPUT', `node ${n.name}: role must be participant or observer, got ${String(n.role)}`, { node: n.name });
    }
    ids.add(n.id);
    for (const kind of PORT_KINDS) {
      const p = n[kind];
      if (!Number.isInteger(p) || p < 1 || p > 65535) {
        throw new AppError('BAD_INPUT', `node ${n.name}: invalid ${kind} ${p}`, { node: n.name });
      }
      const owner = ports.get(p);
      if (owner) throw new AppError('BAD_INPUT', `port ${p} used twice (${owner} and ${n.name}.${kind})`, { port: p });
      ports.set(p, `${n.name}.${kind}`);
    }
  }
}

const PORT_KINDS = ['clientPort', 'quorumPort', 'electionPort', 'adminPort'] as const;

/** True when `host:port` can be bound right now (nobody listens there). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function busyPorts(host: string, node: EnsembleNodeSpec): Promise<string[]> {
  const busy: string[] = [];
  for (const kind of PORT_KINDS) {
    if (!(await isPortFree(host, node[kind]))) busy.push(`${kind} ${host}:${node[kind]}`);
  }
  return busy;
}

/** Last `lines` lines of a file (reads at most the last 64 KiB). '' when missing. */
export function tailFile(file: string, lines = 30, fromOffset = 0): string {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const start = Math.max(fromOffset, size - 65536);
    const buf = Buffer.alloc(Math.max(0, size - start));
    fs.readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Orphan protection

/**
 * Every JVM we spawned and that has not exited yet, across all ensembles of this process. On
 * process exit (normal end, process.exit(), an uncaught exception) they are SIGKILLed
 * synchronously: 'exit' handlers cannot await, and a ZooKeeper left running holds its ports and
 * breaks the next run. Death of this process by signal skips 'exit' handlers; the parent-death
 * signal set via setpriv covers that case on Linux.
 */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
export function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * Spawns a helper process tied to this one: it gets the parent-death signal (Linux, via setpriv) and is
 * SIGKILLed on this process's exit, like the ZooKeeper JVMs, so nothing outlives the server.
 */
export function spawnTied(cmd: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const setpriv = findSetpriv();
  const child = setpriv ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', cmd, ...args], options) : spawn(cmd, [...args], options);
  trackChild(child);
  return child;
}

// ---------------------------------------------------------------------------------------------
// The ensemble

export interface NodeExitInfo {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when stopNode/killNode/stop asked for it. */
  expected: boolean;
}

export interface LocalEnsembleEvents {
  exit: [NodeExitInfo];
  unexpectedExit: [NodeExitInfo];
}

/** Signals that end a ZooKeeper JVM (SIGSTOP/SIGQUIT do not, so they are not accepted here). */
export type TerminatingSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT' | 'SIGHUP';

interface NodeRuntime {
  spec: EnsembleNodeSpec;
  dataDir: string;
  confDir: string;
  logDir: string;
  stdoutLog: string;
  child: ChildProcess | null;
  exited: Promise<void> | null;
  expectingExit: boolean;
  /** In-flight startNode, so two concurrent calls do not spawn two JVMs for one node. */
  starting: Promise<void> | null;
  /** Dynamic config to seed the node with when ZooKeeper has not written one yet (see addNode). */
  seedConfig: string | null;
}

interface ResolvedOptions {
  host: string;
  tickTime: number;
  quorumTimeoutMs: number;
  javaOpts: readonly string[];
  java: string;
  classpath: string;
  extraConfig: Record<string, string | number | boolean>;
  reconfig: boolean;
  superPassword: string;
}

const STOP_GRACE_MS = 10_000;
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
    for (const spec of this.members) this.runtimes.set(spec.name, this.newRuntime(spec));
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

  private newRuntime(spec: EnsembleNodeSpec): NodeRuntime {
    const dataDir = path.join(this.dirs.dataDir, spec.name);
    const logDir = path.join(this.dirs.logsDir, spec.name);
    return {
      spec,
      dataDir,
      confDir: path.join(dataDir, 'conf'),
      logDir,
      stdoutLog: path.join(logDir, 'stdout.log'),
      child: null,
      exited: null,
      expectingExit: false,
      starting: null,
      seedConfig: null,
    };
  }

  /**
   * Registers a new node and starts its JVM, seeded with `dynamicConfig` (the ensemble's current
   * `server.N=...` lines plus the new node's own, which is how ZooKeeper expects a joining server to
   * start). Resolves once it listens; it then syncs with the leader as a non-voting learner until a
   * `reconfig -add` makes it a member (see addServer in membership.ts). Default seed: this launcher's
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
    const rt = this.newRuntime(copy);
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
      await this.terminate(rt, 'SIGKILL', STOP_GRACE_MS);
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
    await this.terminate(rt, 'SIGTERM', STOP_GRACE_MS);
  }

  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit (SIGKILL after ~10 s if ignored). */
  async killNode(name: string, signal: TerminatingSignal = 'SIGKILL'): Promise<void> {
    const rt = this.rt(name);
    await this.terminate(rt, signal, STOP_GRACE_MS);
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
      await this.waitForPortsFree(rt, Math.min(10_000, Math.max(0, deadline - Date.now())));
      const startOffset = fileSize(rt.stdoutLog);
      this.spawnJvm(rt);
      try {
        await this.waitListening(rt, Math.max(1000, deadline - Date.now()));
        return;
      } catch (err) {
        lastError = err;
        const log = tailFile(rt.stdoutLog, 200, startOffset);
        const bindFailure = /BindException|Address already in use/.test(log) || rt.child?.exitCode === 14;
        if (rt.child && isAlive(rt.child)) await this.terminate(rt, 'SIGKILL', STOP_GRACE_MS);
        if (!bindFailure || Date.now() >= deadline) break;
        await sleep(500 * attempt);
      }
    }
    throw lastError instanceof Error
      ? lastError
      : new AppError('INTERNAL', `could not start ZooKeeper node ${name}`, { node: name });
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
    const deadline = Date.now() + timeoutMs;
    let last: ZkServerStats[] = [];
    for (;;) {
      const running = this.members.filter((n) => this.isRunning(n.name));
      // Only participants vote: observers serve clients but do not count toward the majority.
      const voters = this.members.filter((n) => (n.role ?? 'participant') === 'participant');
      const runningVoters = voters.filter((n) => this.isRunning(n.name));
      if (runningVoters.length * 2 > voters.length) {
        last = await probeEnsemble(
          running.map((n) => ({ name: n.name, host: this.host, port: n.clientPort })),
          1000,
        );
        const leaders = last.filter((s) => s.up && isLeaderMode(s.mode));
        const learners = last.filter((s) => s.up && (s.mode === 'follower' || s.mode === 'observer'));
        if (leaders.length === 1 && leaders.length + learners.length === running.length && leaders[0]) {
          return leaders[0].node;
        }
      }
      if (Date.now() >= deadline) break;
      await sleep(150);
    }
    const states = this.nodes
      .map((n) => {
        const s = last.find((x) => x.node === n.name);
        const state = !this.isRunning(n.name) ? 'not running' : s ? (s.up ? s.mode : `down (${s.error})`) : '?';
        return `${n.name}: ${state}`;
      })
      .join(', ');
    throw new AppError('NO_QUORUM', `no quorum after ${timeoutMs} ms (${states})\n${this.logTails()}`, {
      states: last,
    });
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
    this.stopping ??= Promise.all([...this.runtimes.values()].map((rt) => this.terminate(rt, 'SIGTERM', STOP_GRACE_MS))).then(
      () => undefined,
    );
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

  /** Writes config + myid (idempotent) and spawns the JVM. Does not wait. */
  private spawnJvm(rt: NodeRuntime): void {
    const { spec } = rt;
    fs.mkdirSync(rt.confDir, { recursive: true });
    fs.mkdirSync(rt.logDir, { recursive: true });

    // myid ties the data to a server id: refuse to reuse data written by another id, which would
    // make this server replay someone else's view of the ensemble.
    const myidFile = path.join(rt.dataDir, 'myid');
    if (fs.existsSync(myidFile)) {
      const existing = fs.readFileSync(myidFile, 'utf8').trim();
      if (existing !== String(spec.id)) {
        throw new AppError(
          'CONFLICT',
          `${myidFile} says server id ${existing} but node ${spec.name} has id ${spec.id}: refusing to reuse that data`,
          { node: spec.name },
        );
      }
    } else {
      fs.writeFileSync(myidFile, `${spec.id}\n`);
    }
    const cfgFile = path.join(rt.confDir, 'zoo.cfg');
    fs.writeFileSync(
      cfgFile,
      renderZooCfg(spec, this.members, {
        host: this.opts.host,
        dataDir: rt.dataDir,
        tickTime: this.opts.tickTime,
        extraConfig: this.opts.extraConfig,
        ...(this.opts.reconfig ? { dynamicConfigFile: this.dynamicConfigFile(rt) } : {}),
      }),
    );
    fs.writeFileSync(path.join(rt.confDir, 'log4j.properties'), renderLog4jProperties(rt.logDir));
    fs.writeFileSync(path.join(rt.confDir, 'logback.xml'), renderLogbackXml(rt.logDir));

    const args = [
      ...this.opts.javaOpts,
      `-Dzookeeper.log.dir=${rt.logDir}`,
      `-Dzookeeper.log.file=zookeeper.log`,
      `-Dlog4j.configuration=file:${path.join(rt.confDir, 'log4j.properties')}`,
      `-Dlogback.configurationFile=${path.join(rt.confDir, 'logback.xml')}`,
      // Skip registering log4j MBeans: nothing reads them and it costs start-up time.
      '-Dzookeeper.jmx.log4j.disable=true',
      // Makes the JVM findable (pgrep -f) per ensemble node, without parsing the classpath.
      `-Dzkha.node=${spec.name}`,
      // The super user may do anything, reconfig included; only its digest is on the command line.
      `-Dzookeeper.DigestAuthenticationProvider.superDigest=${zkDigest('super', this.opts.superPassword)}`,
      '-cp',
      // conf first, so a log4j.properties/logback.xml inside a jar never wins over ours.
      [rt.confDir, this.opts.classpath].join(path.delimiter),
      MAIN_CLASS,
      cfgFile,
    ];

    // The JVM writes straight into the log file (an fd, not a pipe): no back-pressure on this
    // process, and output is not lost if this process is busy or gone.
    const out = fs.openSync(rt.stdoutLog, 'a');
    fs.writeSync(out, `\n===== ${new Date().toISOString()} starting ${spec.name} (server.${spec.id}) =====\n`);
    let child: ChildProcess;
    try {
      // setpriv --pdeathsig: the kernel SIGKILLs the JVM when this process dies, even by SIGKILL,
      // where no 'exit' handler runs. setpriv execs java, so the child PID is the JVM's PID.
      const setpriv = findSetpriv();
      const [cmd, cmdArgs] = setpriv
        ? [setpriv, ['--pdeathsig', 'SIGKILL', this.opts.java, ...args]]
        : [this.opts.java, args];
      child = spawn(cmd, cmdArgs, { stdio: ['ignore', out, out], detached: false, cwd: rt.dataDir });
    } finally {
      fs.closeSync(out);
    }
    rt.child = child;
    rt.expectingExit = false;
    trackChild(child);
    rt.exited = new Promise<void>((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        const info: NodeExitInfo = {
          name: spec.name,
          pid: child.pid ?? -1,
          code,
          signal,
          expected: rt.expectingExit,
        };
        resolve();
        this.emit('exit', info);
        if (!info.expected) this.emit('unexpectedExit', info);
      };
      child.once('exit', onExit);
      // spawn failures (ENOENT...) emit 'error' and maybe no 'exit'.
      child.once('error', (err) => {
        fs.appendFileSync(rt.stdoutLog, `spawn failed: ${err.message}\n`);
        if (child.exitCode === null && child.signalCode === null) onExit(null, null);
      });
    });
  }

  /**
   * The dynamic config file a (re)starting node reads: the newest one ZooKeeper wrote (it owns the
   * membership once it has committed a config) as long as it still has this node at the spec's
   * addresses, else a seed written now from addNode's config or this launcher's node list. The seed is version 0, which makes the first leader stamp the config
   * with its epoch's zxid (ZooKeeper's rule for a config that has never been committed).
   */
  private dynamicConfigFile(rt: NodeRuntime): string {
    const latest = latestDynamicConfigFile(rt.confDir);
    if (latest) {
      // ZooKeeper's file wins on membership and roles, but not on this node's own addresses: when
      // they no longer match the spec (ports changed in the launcher's config between two runs on
      // the same data), that file describes an ensemble that no longer exists, so seed afresh.
      const own = parseDynamicConfig(fs.readFileSync(latest.file, 'utf8')).servers.find((s) => s.id === rt.spec.id);
      const wanted = parseServerLine(renderServerLine(rt.spec, this.host));
      const sameAddresses =
        own !== undefined &&
        wanted !== null &&
        own.host === wanted.host &&
        own.quorumPort === wanted.quorumPort &&
        own.electionPort === wanted.electionPort &&
        own.clientPort === wanted.clientPort;
      if (sameAddresses) return latest.file;
      for (const f of fs.readdirSync(rt.confDir)) {
        if (f.startsWith('zoo.cfg.dynamic')) fs.rmSync(path.join(rt.confDir, f), { force: true });
      }
    }
    const file = path.join(rt.confDir, 'zoo.cfg.dynamic.0');
    const seed = rt.seedConfig ?? `${renderServerLines(this.members, this.host).join('\n')}\n`;
    fs.writeFileSync(file, seed);
    return file;
  }

  private async terminate(rt: NodeRuntime, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = rt.child;
    if (!child || !isAlive(child)) return;
    rt.expectingExit = true;
    const exited = rt.exited ?? Promise.resolve();
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  private async waitForPortsFree(rt: NodeRuntime, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = await busyPorts(this.host, rt.spec);
      if (busy.length === 0) return;
      if (Date.now() >= deadline) {
        throw new AppError('CONFLICT', `node ${rt.spec.name}: ports still in use: ${busy.join(', ')}`, {
          node: rt.spec.name,
          busy,
        });
      }
      await sleep(200);
    }
  }

  /** Until `ruok` answers `imok` (client port bound); fails fast when the JVM exits. */
  private async waitListening(rt: NodeRuntime, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!rt.child || !isAlive(rt.child)) {
        throw new AppError(
          'INTERNAL',
          `ZooKeeper node ${rt.spec.name} exited during start-up (code ${rt.child?.exitCode ?? '?'}, signal ${
            rt.child?.signalCode ?? 'none'
          }):\n${tailFile(rt.stdoutLog, 25)}`,
          { node: rt.spec.name },
        );
      }
      const answer = await fourLetterWord(this.host, rt.spec.clientPort, 'ruok', 1000).catch(() => '');
      if (answer.trim() === 'imok') return;
      if (Date.now() >= deadline) {
        throw new AppError(
          'INTERNAL',
          `ZooKeeper node ${rt.spec.name} did not listen on ${this.host}:${rt.spec.clientPort} within ${timeoutMs} ms:\n${tailFile(
            rt.stdoutLog,
            25,
          )}`,
          { node: rt.spec.name },
        );
      }
      await sleep(100);
    }
  }
}

/**
 * A one-server ensemble runs in standalone mode (ZooKeeper's default `standaloneEnabled=true`),
 * where the single server is the whole quorum: count it as the leader.
 */
function isLeaderMode(mode: ZkServerStats['mode']): boolean {
  return mode === 'leader' || mode === 'standalone';
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
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
  const host = opts.host ?? '127.0.0.1';
  const resolved: ResolvedOptions = {
    host,
    tickTime: opts.tickTime ?? 2000,
    quorumTimeoutMs: opts.quorumTimeoutMs ?? 30_000,
    javaOpts: opts.javaOpts ?? DEFAULT_JAVA_OPTS,
    java: findJava(),
    classpath: findZooKeeperClasspath(opts.zkHome),
    extraConfig: opts.extraConfig ?? {},
    reconfig: opts.reconfig ?? opts.nodes.length > 1,
    superPassword: opts.superPassword ?? randomBytes(18).toString('base64url'),
  };

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

// ---------------------------------------------------------------------------------------------
// Membership across restarts of the control plane

/** Where the control plane records the servers it runs, next to their data. */
export const MEMBERSHIP_FILE = 'membership.json';

/**
 * Records the specs of the servers the launcher runs (names, ids, ports, roles) in
 * `<dataDir>/membership.json`, written to a temporary file and renamed so a crash never leaves half a
 * file. ZooKeeper's dynamic config has the last word on who is a member (see resolveBootMembership);
 * this file adds what it does not hold: our names and the AdminServer ports.
 */
export function saveEnsembleMembership(dataDir: string, nodes: readonly EnsembleNodeSpec[]): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, MEMBERSHIP_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ savedAt: new Date().toISOString(), nodes: nodes.map((n) => ({ ...n, role: n.role ?? 'participant' })) }, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** The specs saved by saveEnsembleMembership, or null when there is no (valid) file. */
export function loadEnsembleMembership(dataDir: string): EnsembleNodeSpec[] | null {
  let raw: string;
  try {
    raw = fs.readFileSync(path.join(dataDir, MEMBERSHIP_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(raw) as { nodes?: unknown };
    if (!Array.isArray(parsed.nodes) || parsed.nodes.length === 0) return null;
    const nodes = parsed.nodes.map((n: Record<string, unknown>) => ({
      name: String(n.name),
      id: Number(n.id),
      clientPort: Number(n.clientPort),
      quorumPort: Number(n.quorumPort),
      electionPort: Number(n.electionPort),
      adminPort: Number(n.adminPort),
      role: n.role === 'observer' ? ('observer' as const) : ('participant' as const),
    }));
    validateSpecs(nodes);
    return nodes;
  } catch {
    return null;
  }
}

/**
 * The servers to start when the control plane starts on existing data: the saved membership
 * (membership.json) reconciled with the newest `zoo.cfg.dynamic.<version>` ZooKeeper wrote in any of
 * their conf folders, which is the committed truth. A server the config lists but the file does not
 * (the control plane died between a reconfig and saving) is rebuilt from its config line, named
 * `zk<id>`, with `adminPortFor(id)`; a saved server the config no longer lists (died between a
 * remove and saving) is left out. Roles come from the config. Without a saved file: `configured`.
 */
export function resolveBootMembership(
  configured: readonly EnsembleNodeSpec[],
  dataDir: string,
  adminPortFor: (id: number) => number,
): { nodes: EnsembleNodeSpec[]; source: 'configured' | 'saved'; configVersion: string | null } {
  const saved = loadEnsembleMembership(dataDir);
  if (!saved) return { nodes: configured.map((n) => ({ ...n })), source: 'configured', configVersion: null };
  let newest: { file: string; version: bigint } | null = null;
  for (const n of [...saved, ...configured]) {
    const f = latestDynamicConfigFile(path.join(dataDir, n.name, 'conf'));
    if (f && (!newest || f.version > newest.version)) newest = f;
  }
  if (!newest) return { nodes: saved, source: 'saved', configVersion: null };
  const config = parseDynamicConfig(fs.readFileSync(newest.file, 'utf8'));
  if (config.servers.length === 0) return { nodes: saved, source: 'saved', configVersion: null };
  const byId = new Map(saved.map((n) => [n.id, n]));
  const nodes = config.servers.map((s): EnsembleNodeSpec => {
    const known = byId.get(s.id);
    if (known) return { ...known, role: s.role };
    return {
      name: `zk${s.id}`,
      id: s.id,
      clientPort: s.clientPort ?? 0,
      quorumPort: s.quorumPort,
      electionPort: s.electionPort,
      adminPort: adminPortFor(s.id),
      role: s.role,
    };
  });
  validateSpecs(nodes);
  return { nodes, source: 'saved', configVersion: newest.version.toString(16) };
}
