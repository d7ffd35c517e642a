import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AgentSupervisor } from '@zkha/agent';
import { createDb, listFiles } from '@zkha/db';
import { FileMetadataRegistry, findInconsistencies, storageOverAgents } from '@zkha/services';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { spawnServer, startExternalAgents, stopProcess, testServerEnv } from './testing.ts';

/**
 * Crash safety: the real server process is SIGKILLed at random points while it executes a 500-file plan,
 * 20 times, and restarted each time. Afterwards every file must exist exactly once, with its checksum, and
 * the agents, the database and ZooKeeper must agree. The ensemble and the storage agents run outside the server
 * (AGENTS_ENABLED=false, AGENT_TOKEN: as with agents on other hosts), so they survive its kills.
 */
const KILLS = 20;
const FILES = 500;
const NODES = ['zk1', 'zk2', 'zk3'];

let ensemble: TestEnsemble;
let dir: string;
let env: NodeJS.ProcessEnv;
let child: ChildProcess | null = null;
let url: string;
let agents: AgentSupervisor;

async function startServer(): Promise<void> {
  child = await spawnServer(env);
}

async function kill(signal: NodeJS.Signals): Promise<void> {
  await stopProcess(child, signal);
  child = null;
}

async function trpc<T>(proc: string, input?: unknown, method: 'GET' | 'POST' = 'GET'): Promise<T> {
  const res = await fetch(
    `${url}/trpc/${proc}`,
    method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input ?? {}) } : {},
  );
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`${proc}: ${res.status} ${JSON.stringify(body.error)}`);
  return body.result.data;
}

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-crash-'));
  const base = await testServerEnv(dir);
  agents = await startExternalAgents(ensemble, NODES, dir);
  env = {
    ...process.env,
    ...base,
    ZK_NODES: ensemble.nodes.map((n) => `${n.name}=127.0.0.1:${n.clientPort}`).join(','),
    AGENTS_ENABLED: 'false',
    AGENT_TOKEN: agents.dataToken!,
    // Slow enough that the plan spans many kills; the queue keeps 4 copies in flight.
    MIGRATION_BANDWIDTH_BYTES_PER_SEC: String(192 * 1024),
    LOG_LEVEL: 'warn',
  };
  url = `http://127.0.0.1:${base.PORT}`;
}, 120_000);

afterAll(async () => {
  await kill('SIGKILL');
  await agents?.stopAll();
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SIGKILL during a 500-file plan, 20 times', () => {
  it('loses nothing, duplicates nothing, and leaves disk, database and ZooKeeper in agreement', async () => {
    await startServer();
    const stress = await fetch(`${url}/api/demo/stress`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ node: 'zk1', files: FILES, size_kb: 4, trigger_scheduler: false }),
    });
    expect(stress.status).toBe(200);
    const before = new Map<string, string>();
    for (let offset = 0; ; offset += 500) {
      const page = (await (await fetch(`${url}/api/files?limit=500&offset=${offset}`)).json()) as {
        items: { uuid: string; sha256: string }[];
      };
      for (const f of page.items) before.set(f.uuid, f.sha256);
      if (page.items.length < 500) break;
    }
    expect(before.size).toBe(FILES);

    const applied = await trpc<{ queued: number }>('migrations.enqueue', { strategy: 'count' }, 'POST');
    expect(applied.queued).toBeGreaterThan(300);

    const started = Date.now();
    for (let i = 0; i < KILLS; i++) {
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 700));
      await kill('SIGKILL');
      await startServer();
    }
    // Let the last run finish the plan.
    for (;;) {
      const p = await trpc<{ totals: { pending: number; running: number; paused: number } }>('migrations.progress');
      if (p.totals.pending + p.totals.running + p.totals.paused === 0) break;
      if (Date.now() - started > 240_000) throw new Error('plan did not finish');
      await new Promise((r) => setTimeout(r, 200));
    }
    const recoveries = (await (await fetch(`${url}/api/operations?action=migration_recovery&limit=500`)).json()) as {
      items: { details: { rolledBack: number; rolledForward: number } }[];
    };
    const done = await trpc<{ status: string }[]>(
      `migrations.list?input=${encodeURIComponent(JSON.stringify({ status: 'completed', limit: 500 }))}`,
    );
    await kill('SIGTERM');

    // The invariant, checked from outside the server.
    const database = createDb(env.DATABASE_PATH!);
    const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
    const storage = storageOverAgents(session, { token: agents.dataToken! });
    try {
      const rows = listFiles(database.db, { limit: 1000, offset: 0 }).items;
      expect(rows).toHaveLength(FILES);
      expect(new Map(rows.map((r) => [r.uuid, r.sha256]))).toEqual(before);
      const names = new Map<string, number>();
      for (const n of NODES) for (const f of await storage.listNodeFiles(n)) names.set(f.name, (names.get(f.name) ?? 0) + 1);
      expect([...names.values()].every((c) => c === 1)).toBe(true); // no duplicates on disk
      expect(names.size).toBe(FILES);
      for (const n of NODES)
        expect((await readdir(path.join(dir, 'uploads', n))).filter((f) => f.endsWith('.part') && !f.startsWith('.zkha-probe-'))).toEqual(
          [],
        );
      const problems = await findInconsistencies({ db: database.db, storage, metadata: new FileMetadataRegistry(session), nodes: NODES });
      expect(problems).toEqual([]);
      const counts = Object.fromEntries(NODES.map((n) => [n, rows.filter((r) => r.node === n).length]));
      const rolledBack = recoveries.items.reduce((a, o) => a + o.details.rolledBack, 0);
      const rolledForward = recoveries.items.reduce((a, o) => a + o.details.rolledForward, 0);
      console.log(
        `[figure] ${KILLS} SIGKILLs during a ${FILES}-file plan: ${done.length} moves completed, ${rolledBack} rolled back and ${rolledForward} rolled forward by recovery, final counts ${JSON.stringify(counts)}, 0 lost, 0 duplicated, ${Math.round((Date.now() - started) / 1000)} s`,
      );
      expect(Math.max(...Object.values(counts)) - Math.min(...Object.values(counts))).toBeLessThanOrEqual(10);
    } finally {
      storage.close();
      await session.close();
      database.close();
    }
  }, 400_000);
});
