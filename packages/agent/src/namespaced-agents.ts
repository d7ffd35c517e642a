/**
 * Test support (issue 13): real storage agent processes (main.ts, as the supervisor starts them), each in a mount
 * namespace of its own (`unshare --mount --propagation private`) with a private tmpfs as its folder and on its own
 * loopback address. Used by packages/agent/src/namespace.int.test.ts and, through `@zkha/agent/testing`, by the
 * services' storage-nodes/namespace-isolation.int.test.ts. No production code imports it; it does not load vitest (the
 * benchmarks use `freePortOn`), so the tests pass their `expect` in.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';

import type { ExpectStatic } from 'vitest';

import { AGENT_TOKEN_ENV, AgentClient } from '@zkha/storage';
import type { ZkSession } from '@zkha/zk';
import { spawnTied } from '@zkha/zk-local';

import { STORES_ROOT, type AliveRecord } from './agent.ts';
import { entryArgs } from './entry.ts';
import { AGENT_ENTRY } from './supervisor.ts';

/** Why this machine cannot run agents in mount namespaces, or null. A root without CAP_SYS_ADMIN (some containers) fails the probe. */
export function whyNoMountNamespaces(): string | null {
  if (process.platform !== 'linux') return 'mount namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs in a mount namespace (CI runs as root)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'util-linux `unshare` is not installed';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none "$1"', 'sh', tmpdir()], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `unshare --mount cannot mount a tmpfs here: ${(probe.stderr || probe.error?.message || '').trim()}`;
  return null;
}

/** A port free on `host` right now (the agent binds it a moment later; loopback aliases are quiet). */
export async function freePortOn(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen({ host, port: 0 }, resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Polls `check` every 50 ms until it returns something truthy, which it returns; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NamespacedAgent {
  node: string;
  host: string;
  /** The agent's folder: a tmpfs in its namespace, an empty directory of the host's disk from here. */
  dir: string;
  token: string;
  child: ChildProcess;
  output: () => string;
  /** The agent's mount namespace, as /proc shows it (mnt:[inode]). */
  mntNs: string;
  /** The test's own client of the agent. */
  client: AgentClient;
  alive: AliveRecord;
}

export interface NamespacedAgentOptions {
  /** The ZooKeeper connection string the agent registers with. */
  zk: string;
  /** A session that reads the agent's alive znode (the agent is up once it advertises its data URL there). */
  observer: ZkSession;
  /** The agent's folder, created here (its parent must exist). */
  dir: string;
  /** The token in the agent's environment, or a file the agent generates it into. */
  token: { env: string } | { file: string };
  /**
   * tmpfs: a filesystem of its own. bind: another folder of the same disk shown at `dir`, in its namespace only.
   * shared: no namespace at all (a control case).
   */
  folder?: 'tmpfs' | { bind: string } | 'shared';
  /** Pass `--advertise` with the listen address. */
  advertise?: boolean;
  /** More of the agent's environment (ZooKeeper credentials, say). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts main.ts the way an operator would on its own host, but inside `unshare --mount`: the tmpfs mounted over
 * `dir` exists in that namespace only, and dies with it when the agent (its only process) exits. `exec` keeps one
 * pid from sh to node, so the child we hold is the agent itself. Resolves once the agent advertises its data URL.
 */
export async function startNamespacedAgent(node: string, host: string, opts: NamespacedAgentOptions): Promise<NamespacedAgent> {
  const { dir, token, folder = 'tmpfs' } = opts;
  await mkdir(dir);
  const port = await freePortOn(host);
  const agentArgs = [
    '--node',
    node,
    '--zk',
    opts.zk,
    '--dir',
    dir,
    '--listen',
    `${host}:${port}`,
    ...(opts.advertise ? ['--advertise', `${host}:${port}`] : []),
    '--capacity',
    '64MiB',
    '--heartbeat-ms',
    '500',
  ];
  if ('file' in token) agentArgs.push('--token-file', token.file);
  const env = { ...process.env, [AGENT_TOKEN_ENV]: 'env' in token ? token.env : '', ...opts.env };
  const agentCmd = [process.execPath, ...entryArgs(AGENT_ENTRY), ...agentArgs]; // as the supervisor starts it
  const child =
    folder === 'shared'
      ? spawnTied(agentCmd[0]!, agentCmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawnTied(
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            folder === 'tmpfs'
              ? 'mount -t tmpfs -o size=64m,mode=0755 none "$1" && shift && exec "$@"'
              : 'mount --bind "$2" "$1" && shift 2 && exec "$@"',
            'sh',
            dir,
            ...(folder === 'tmpfs' ? [] : [folder.bind]),
            ...agentCmd,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], env },
        );
  let out = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (out += String(c)));
  const alive = await until(`${node} advertising its data URL`, async () => {
    if (child.exitCode !== null) throw new Error(`${node} exited with ${child.exitCode}: ${out}`);
    const rec = await opts.observer.client.getJson<AliveRecord>(`${STORES_ROOT}/${node}/alive`).catch(() => null);
    return rec?.dataUrl ? rec : null;
  });
  const secret = 'env' in token ? token.env : (await readFile(token.file, 'utf8')).trim();
  return {
    node,
    host,
    dir,
    token: secret,
    child,
    output: () => out,
    mntNs: await readlink(`/proc/${child.pid}/ns/mnt`),
    client: new AgentClient({ url: alive.dataUrl!, token: secret }),
    alive,
  };
}

/**
 * Asserts that the agents stand apart: a mount namespace each (none of them this process's), a tmpfs over each one's
 * folder in its namespace and not in ours, each data URL on the agent's own address, and no token in its output.
 */
export async function expectIsolated(expect: ExpectStatic, agents: readonly NamespacedAgent[]): Promise<void> {
  const ours = await readlink('/proc/self/ns/mnt');
  expect(new Set([ours, ...agents.map((a) => a.mntNs)]).size).toBe(agents.length + 1);
  const ourMounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const a of agents) {
    expect(a.alive.dataUrl).toMatch(new RegExp(`^http://${a.host.replaceAll('.', '\\.')}:\\d+$`));
    expect(await readFile(`/proc/${a.child.pid}/mountinfo`, 'utf8')).toMatch(new RegExp(` ${a.dir} .* - tmpfs `));
    expect(ourMounts).not.toContain(` ${a.dir} `);
    expect(a.output()).not.toContain(a.token);
  }
}

/**
 * Closes the agents' clients and stops them (SIGTERM, SIGKILL after 5 s). Returns the mount namespaces they had
 * other than this process's own, for the caller to check that no process is left in any (`holdersOf`).
 */
export async function stopNamespacedAgents(agents: readonly NamespacedAgent[]): Promise<string[]> {
  const ours = await readlink('/proc/self/ns/mnt');
  const namespaces = agents.map((a) => a.mntNs).filter((ns) => ns !== ours);
  await Promise.all(
    agents.map(async (a) => {
      a.client.close();
      if (a.child.exitCode !== null || a.child.signalCode !== null) return;
      const exited = once(a.child, 'exit');
      a.child.kill('SIGTERM');
      const timer = setTimeout(() => a.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  return namespaces;
}

/** Processes (any on this machine) whose mount namespace is `ns`. */
export async function holdersOf(ns: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  const held = await Promise.all(
    pids.map(async (p) => ((await readlink(`/proc/${p}/ns/mnt`).catch(() => null)) === ns ? Number(p) : null)),
  );
  return held.filter((p): p is number => p !== null);
}
