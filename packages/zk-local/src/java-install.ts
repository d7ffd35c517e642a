/**
 * Finding what a ZooKeeper server runs on: java, the ZooKeeper jars (Debian's or an Apache release in
 * ZK_HOME), util-linux setpriv for the parent-death signal, and the JVM flags.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '@zkha/core';

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

export const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

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

/** util-linux `setpriv`, used to give each JVM a parent-death signal (see spawnJvm in node-process.ts). */
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
