import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AgentSupervisor, STORES_ROOT } from '@zkha/agent';
import { createDb, listFiles, listMigrations, listOperations } from '@zkha/db';
import { AGENT_TOKEN_ENV } from '@zkha/storage';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { storageOverAgents } from '../storage-nodes/agent-directory.ts';
import { findInconsistencies } from '../files/consistency.ts';
import { FileMetadataRegistry } from '../files/file-metadata.ts';

/**
 * Crash safety of moves between real agent processes: a process running the real services is SIGKILLed at random
 * points while batches move (the agents share a filesystem and hard-link), again and again; then, with a
 * bandwidth cap so the bytes stream over HTTP, the source or the target agent is SIGKILLed mid-stream (its
 * supervisor starts it again on a new port). A last run finishes the queue. Every file must exist once, with its
 * checksum, and the agents' listings, the database and ZooKeeper must agree.
 */
const CHILD = fileURLToPath(new URL('./engine-crash.child.ts', import.meta.url));
const KILLS = 12;
const AGENT_KILLS = 6;
const FILES = 1500;

let ensemble: TestEnsemble;
let dir: string;
let env: NodeJS.ProcessEnv;
let child: ChildProcess | null = null;
let agents: AgentSupervisor;

/** Runs the child in `mode` until it prints `until`; returns it (still running unless it exited). */
async function run(mode: 'seed' | 'work' | 'finish', until: string, extra: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...env, ...extra, ZKHA_CHILD: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child (${mode}) did not print ${until} in 180 s:\n${out.slice(-2000)}`)), 180_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(until)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes(until)) reject(new Error(`child (${mode}) exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
  return proc;
}

async function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise((r) => proc.once('exit', r));
}

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-movecrash-'));
  // The agents outlive every kill of the server: they are processes of their own, as on separate hosts.
  agents = new AgentSupervisor({
    agents: ensemble.nodes.map((n) => ({
      node: n.name,
      zk: ensemble.connectionString,
      folder: path.join(dir, 'uploads', n.name),
      logFile: path.join(dir, 'logs', `${n.name}.log`),
    })),
    sessionTimeoutMs: 4000,
    heartbeatIntervalMs: 1000,
    restartDelayMs: 300,
  });
  agents.startAll();
  env = {
    ...process.env,
    ZKHA_MEMBERS: JSON.stringify(ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }))),
    ZKHA_ZK: ensemble.connectionString,
    ZKHA_DB: path.join(dir, 'zkha.db'),
    ZKHA_FILES: String(FILES),
    [AGENT_TOKEN_ENV]: agents.dataToken!,
  };
  await allAlive();
}, 120_000);

/** Waits until every agent has its alive znode (after a start or a restart). */
async function allAlive(): Promise<void> {
  const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const alive = await Promise.all(ensemble.nodes.map((n) => session.client.exists(`${STORES_ROOT}/${n.name}/alive`)));
      if (alive.every(Boolean) && ensemble.nodes.every((n) => agents.isRunning(n.name))) return;
      if (Date.now() > deadline) throw new Error('agents did not register within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await session.close();
  }
}

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  await agents?.stopAll();
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SIGKILL of the server mid-batch, and of a source or target agent mid-stream', () => {
  it(`${KILLS} server kills and ${AGENT_KILLS} agent kills: nothing lost, nothing duplicated, agents = database = ZooKeeper`, async () => {
    await exited(await run('seed', 'SEEDED'));
    const nodes = ensemble.nodes.map((n) => n.name);
    const database = createDb(env.ZKHA_DB!);
    const before = new Map(listFiles(database.db, { limit: 1000, offset: 0 }).items.map((f) => [f.uuid, f.sha256]));
    for (let offset = 1000; offset < FILES; offset += 1000)
      for (const f of listFiles(database.db, { limit: 1000, offset }).items) before.set(f.uuid, f.sha256);
    expect(before.size).toBe(FILES);

    const completedAtKill: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const proc = await run('work', 'READY');
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 250));
      proc.kill('SIGKILL');
      await exited(proc);
      completedAtKill.push(listMigrations(database.db, { status: 'completed', limit: 5000 }).length);
    }
    // Streams over HTTP (a cap turns the same-host links off): kill whichever agent a running move reads from or
    // writes to, while the server keeps running; its supervisor starts it again on a new port.
    const agentKills: string[] = [];
    const capped = { ZKHA_CAP: String(128 * 1024) };
    for (let i = 0; i < AGENT_KILLS; i++) {
      const proc = await run('work', 'READY', capped);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      const running = listMigrations(database.db, { status: 'running', limit: 10 })[0];
      const victim = running ? (i % 2 === 0 ? running.source : running.target) : nodes[i % nodes.length]!;
      process.kill(agents.pid(victim)!, 'SIGKILL');
      agentKills.push(`${victim}${running ? (i % 2 === 0 ? ' (source)' : ' (target)') : ''}`);
      await new Promise((r) => setTimeout(r, 1500));
      proc.kill('SIGKILL');
      await exited(proc);
      await allAlive();
    }
    await exited(await run('finish', 'DRAINED'));

    const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
    const storage = storageOverAgents(session, { token: agents.dataToken! });
    try {
      const rows = [
        ...listFiles(database.db, { limit: 1000, offset: 0 }).items,
        ...listFiles(database.db, { limit: 1000, offset: 1000 }).items,
      ];
      expect(new Map(rows.map((r) => [r.uuid, r.sha256]))).toEqual(before);
      const names = new Map<string, number>();
      for (const n of nodes) for (const f of await storage.listNodeFiles(n)) names.set(f.name, (names.get(f.name) ?? 0) + 1);
      expect([...names.values()].every((c) => c === 1)).toBe(true);
      expect(names.size).toBe(FILES);
      // No partial file left in any agent's folder (looked at directly: this test plays the operator).
      for (const n of nodes)
        expect((await readdir(path.join(dir, 'uploads', n))).filter((f) => f.endsWith('.part') && !f.startsWith('.zkha-probe-'))).toEqual(
          [],
        );
      expect(await findInconsistencies({ db: database.db, storage, metadata: new FileMetadataRegistry(session), nodes })).toEqual([]);
      const open = listMigrations(database.db, { limit: 5000 }).filter(
        (m) => m.status === 'pending' || m.status === 'running' || m.status === 'paused',
      );
      expect(open).toEqual([]);
      const recoveries = listOperations(database.db, { action: 'migration_recovery', limit: 500 }).items;
      const rolledBack = recoveries.reduce((a, o) => a + Number(o.details.rolledBack), 0);
      const rolledForward = recoveries.reduce((a, o) => a + Number(o.details.rolledForward), 0);
      const completed = listMigrations(database.db, { status: 'completed', limit: 5000 }).length;
      console.log(
        `[figure] ${KILLS} server SIGKILLs during batches and ${AGENT_KILLS} agent SIGKILLs mid-stream (${agentKills.join(', ')}) over ${FILES} files: ${completed} moves completed (${completedAtKill.join(', ')} at each server kill), ${rolledBack} rolled back and ${rolledForward} rolled forward by recovery, 0 lost, 0 duplicated`,
      );
      // The kills landed while moves were in flight, not only between plans.
      expect(rolledBack + rolledForward).toBeGreaterThan(0);
    } finally {
      storage.close();
      await session.close();
      database.close();
    }
  }, 600_000);
});
