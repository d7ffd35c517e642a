/**
 * A real, private Docker engine for tests: Debian's dockerd (docker.io 20.10) started as root on a socket
 * in a temp folder, with every network feature off (no bridge, no iptables rules, no forwarding, no
 * masquerading), so it touches nothing of the host but the temp folder. Containers run with
 * `NetworkMode: 'host'`. No registry is reachable here, so images are imported from a local rootfs
 * (see importHostBaseImage). Measured here: the engine answers in ~0.2 s; SIGTERM stops it in ~2.6 s;
 * it can leave an nsfs mount at <exec-root>/netns/default, which stop() unmounts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import Dockerode from 'dockerode';

import { ensureDebianPackage } from './system-packages.ts';

export const DOCKERD = '/usr/sbin/dockerd';

/**
 * Folders dockerd/containerd create outside the data and exec roots whatever the flags (the shim
 * socket folder, the plugin folder). Deepest first, so parents are removed after their children.
 */
export const ENGINE_RUNTIME_DIRS = ['/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker'] as const;

/** What a test asserts is unchanged by the engine: network links and iptables rules. */
export interface HostNetworkSnapshot {
  links: string[];
  iptables: string;
}

export function snapshotHostNetwork(): HostNetworkSnapshot {
  let links: string[] = [];
  try {
    links = fs.readdirSync('/sys/class/net').sort();
  } catch {
    links = [];
  }
  const tables = ['filter', 'nat'].map((t) => {
    const res = spawnSync('iptables', ['-t', t, '-S'], { encoding: 'utf8' });
    return `${t}: ${res.status === 0 ? res.stdout : `unavailable (${(res.stderr ?? String(res.error)).trim()})`}`;
  });
  return { links, iptables: tables.join('\n') };
}

/** Lines of /proc/self/mountinfo whose mount point is under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** PIDs of processes whose command line mentions `needle` (dockerd, containerd, shims of this engine). */
export function processesMentioning(needle: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmd.includes(needle)) out.push({ pid: Number(entry), cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface PrivateDockerEngine {
  docker: Dockerode;
  socketPath: string;
  pid: number;
  baseDir: string;
  /** dockerd's stdout+stderr. */
  logFile: string;
  /**
   * SIGTERM, wait for exit (SIGKILL after 30 s), unmount what it left under baseDir, delete baseDir and
   * the empty ENGINE_RUNTIME_DIRS that did not exist before the engine started.
   */
  stop(): Promise<{ stopMs: number; unmounted: string[]; removedDirs: string[] }>;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Starts dockerd on `<baseDir>/docker.sock` and waits until it answers `_ping`.
 * Throws with the reason (not root, dockerd missing and not installable, daemon failing: log tail).
 */
export async function startPrivateDockerEngine(opts: { timeoutMs?: number } = {}): Promise<PrivateDockerEngine> {
  if (!isRoot()) {
    throw new Error('a private Docker engine needs root (dockerd manages mounts and cgroups); run this tier as root');
  }
  ensureDebianPackage(DOCKERD, 'docker.io');

  // Short path: containerd's unix sockets live under the exec-root and a socket path has at most 107 bytes.
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkha-dk-'));
  const socketPath = path.join(baseDir, 'docker.sock');
  const execRoot = path.join(baseDir, 'x');
  const logFile = path.join(baseDir, 'dockerd.log');
  const preexisting = new Set(ENGINE_RUNTIME_DIRS.filter((d) => fs.existsSync(d)));
  const args = [
    '--bridge=none',
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    `--data-root=${path.join(baseDir, 'data')}`,
    `--exec-root=${execRoot}`,
    `--pidfile=${path.join(baseDir, 'dockerd.pid')}`,
    '-H',
    `unix://${socketPath}`,
  ];
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // setpriv --pdeathsig: the engine gets SIGTERM if the test process dies without cleaning up.
    const setpriv = fs.existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;
    child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', DOCKERD, ...args], { stdio: ['ignore', out, out] })
      : spawn(DOCKERD, args, { stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const docker = new Dockerode({ socketPath });
  type StopReport = { stopMs: number; unmounted: string[]; removedDirs: string[] };
  let stopped: Promise<StopReport> | null = null;

  const stop = (): Promise<StopReport> => {
    stopped ??= (async () => {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      const stopMs = Date.now() - t0;
      const unmounted: string[] = [];
      for (const mount of mountsUnder(baseDir)) {
        const res = spawnSync('umount', [mount], { encoding: 'utf8' });
        if (res.status !== 0) spawnSync('umount', ['-l', mount]);
        unmounted.push(mount);
      }
      fs.rmSync(baseDir, { recursive: true, force: true });
      const removedDirs: string[] = [];
      for (const dir of ENGINE_RUNTIME_DIRS) {
        if (preexisting.has(dir)) continue;
        try {
          fs.rmdirSync(dir); // only when empty: a folder that holds something is not ours to delete
          removedDirs.push(dir);
        } catch {
          // absent or not empty
        }
      }
      return { stopMs, unmounted, removedDirs };
    })();
    return stopped;
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = readTail(logFile);
      await stop();
      throw new Error(`dockerd exited during start-up (code ${child.exitCode}, signal ${child.signalCode}):\n${log}`);
    }
    try {
      await docker.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        const log = readTail(logFile);
        await stop();
        throw new Error(`dockerd did not answer on ${socketPath} within ${opts.timeoutMs ?? 30_000} ms:\n${log}`);
      }
      await sleep(50);
    }
  }
  return { docker, socketPath, pid: child.pid ?? -1, baseDir, logFile, stop };
}

export function readTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Imports a 31-byte-ish base image: a rootfs holding only the usr-merge symlinks, an empty /tmp
 * (1777) and empty etc/ and usr/ folders. Containers bind-mount the host's /usr and /etc read-only
 * over them and so run the host's own Java and ZooKeeper jars. (No registry is reachable here.)
 */
export async function importHostBaseImage(docker: Dockerode, workDir: string, repo = 'zkha-host-base', tag = 'latest'): Promise<string> {
  const rootfs = path.join(workDir, 'rootfs');
  fs.mkdirSync(rootfs, { recursive: true });
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['sbin', 'usr/sbin'],
  ] as const) {
    fs.symlinkSync(target, path.join(rootfs, link));
  }
  for (const dir of ['etc', 'usr', 'tmp']) fs.mkdirSync(path.join(rootfs, dir));
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);

  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
  const progress = await docker.importImage(tar.stdout, { repo, tag });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve()));
  });
  const code = await new Promise<number | null>((resolve) => {
    if (tar.exitCode !== null) resolve(tar.exitCode);
    else tar.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`tar of the base rootfs failed (${code}): ${tarErr}`);
  const image = `${repo}:${tag}`;
  await docker.getImage(image).inspect();
  return image;
}
