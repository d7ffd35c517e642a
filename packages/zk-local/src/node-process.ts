/**
 * The life of one node's JVM: its folders, writing its config and spawning it, and ending it.
 * The ensemble (local-ensemble.ts) decides when; this file knows how.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '@zkha/core';
import { zkDigest } from '@zkha/zk';
import { dynamicConfigFileFor, renderLog4jProperties, renderLogbackXml, renderZooCfg } from './config-files.ts';
import { findSetpriv, MAIN_CLASS } from './java-install.ts';
import type { EnsembleNodeSpec } from './node-spec.ts';
import type { ResolvedOptions } from './options.ts';
import { trackChild } from './tied-processes.ts';

export interface NodeExitInfo {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when stopNode/killNode/stop asked for it. */
  expected: boolean;
}

export interface NodeRuntime {
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

/** Ask for a graceful stop, and SIGKILL a JVM that has not exited after this long. */
export const STOP_GRACE_MS = 10_000;

/** A node's folders under the ensemble's data and logs folders; nothing is created yet. */
export function newRuntime(spec: EnsembleNodeSpec, dirs: { dataDir: string; logsDir: string }): NodeRuntime {
  const dataDir = path.join(dirs.dataDir, spec.name);
  const logDir = path.join(dirs.logsDir, spec.name);
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
 * Writes the node's config (myid, zoo.cfg, the log configs) and returns the zoo.cfg path. Refuses data
 * written by another server id.
 */
function writeNodeConfig(rt: NodeRuntime, members: readonly EnsembleNodeSpec[], opts: ResolvedOptions): string {
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
    renderZooCfg(spec, members, {
      host: opts.host,
      dataDir: rt.dataDir,
      tickTime: opts.tickTime,
      extraConfig: opts.extraConfig,
      ...(opts.reconfig ? { dynamicConfigFile: dynamicConfigFileFor(rt, members, opts.host) } : {}),
    }),
  );
  fs.writeFileSync(path.join(rt.confDir, 'log4j.properties'), renderLog4jProperties(rt.logDir));
  fs.writeFileSync(path.join(rt.confDir, 'logback.xml'), renderLogbackXml(rt.logDir));
  return cfgFile;
}

/** The JVM's command line after `java`: flags, log locations, the super digest, the classpath, the main class. */
function jvmArgs(rt: NodeRuntime, opts: ResolvedOptions, cfgFile: string): string[] {
  const { spec } = rt;
  return [
    ...opts.javaOpts,
    `-Dzookeeper.log.dir=${rt.logDir}`,
    `-Dzookeeper.log.file=zookeeper.log`,
    `-Dlog4j.configuration=file:${path.join(rt.confDir, 'log4j.properties')}`,
    `-Dlogback.configurationFile=${path.join(rt.confDir, 'logback.xml')}`,
    // Skip registering log4j MBeans: nothing reads them and it costs start-up time.
    '-Dzookeeper.jmx.log4j.disable=true',
    // Makes the JVM findable (pgrep -f) per ensemble node, without parsing the classpath.
    `-Dzkha.node=${spec.name}`,
    // The super user may do anything, reconfig included; only its digest is on the command line.
    `-Dzookeeper.DigestAuthenticationProvider.superDigest=${zkDigest('super', opts.superPassword)}`,
    '-cp',
    // conf first, so a log4j.properties/logback.xml inside a jar never wins over ours.
    [rt.confDir, opts.classpath].join(path.delimiter),
    MAIN_CLASS,
    cfgFile,
  ];
}

/**
 * Writes config + myid (idempotent) and spawns the JVM. Does not wait. `onExit` hears every exit of
 * this JVM, after `rt.exited` has resolved.
 */
export function spawnJvm(
  rt: NodeRuntime,
  members: readonly EnsembleNodeSpec[],
  opts: ResolvedOptions,
  onExit: (info: NodeExitInfo) => void,
): void {
  const { spec } = rt;
  const cfgFile = writeNodeConfig(rt, members, opts);
  const args = jvmArgs(rt, opts, cfgFile);

  // The JVM writes straight into the log file (an fd, not a pipe): no back-pressure on this
  // process, and output is not lost if this process is busy or gone.
  const out = fs.openSync(rt.stdoutLog, 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting ${spec.name} (server.${spec.id}) =====\n`);
  let child: ChildProcess;
  try {
    // setpriv --pdeathsig: the kernel SIGKILLs the JVM when this process dies, even by SIGKILL,
    // where no 'exit' handler runs. setpriv execs java, so the child PID is the JVM's PID.
    const setpriv = findSetpriv();
    const [cmd, cmdArgs] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', opts.java, ...args]] : [opts.java, args];
    child = spawn(cmd, cmdArgs, { stdio: ['ignore', out, out], detached: false, cwd: rt.dataDir });
  } finally {
    fs.closeSync(out);
  }
  rt.child = child;
  rt.expectingExit = false;
  trackChild(child);
  rt.exited = new Promise<void>((resolve) => {
    const exit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const info: NodeExitInfo = {
        name: spec.name,
        pid: child.pid ?? -1,
        code,
        signal,
        expected: rt.expectingExit,
      };
      resolve();
      onExit(info);
    };
    child.once('exit', exit);
    // spawn failures (ENOENT...) emit 'error' and maybe no 'exit'.
    child.once('error', (err) => {
      fs.appendFileSync(rt.stdoutLog, `spawn failed: ${err.message}\n`);
      if (child.exitCode === null && child.signalCode === null) exit(null, null);
    });
  });
}

/** Sends `signal` and waits up to `graceMs` for the exit, then SIGKILLs. No-op when the JVM is not running. */
export async function terminate(rt: NodeRuntime, signal: NodeJS.Signals, graceMs: number): Promise<void> {
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

export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
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
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
