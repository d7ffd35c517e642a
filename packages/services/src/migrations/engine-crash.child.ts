/**
 * The process that engine.crash.int.test.ts SIGKILLs: the real services over a database file, the
 * storage agents (found through their alive znodes, reached with ZKHA_AGENT_TOKEN) and an ensemble given in the
 * environment. Each start runs recovery (services.init), then the
 * engine; `ZKHA_CHILD=seed` creates the files first, `work` queues random moves when the queue is empty, and
 * `finish` lets the queue drain and exits cleanly. Prints `READY`, `SEEDED`, `DRAINED` for the test to follow.
 */
import { createDb } from '@zkha/db';
import { AGENT_TOKEN_ENV } from '@zkha/storage';
import { probeEnsemble, ZkSession } from '@zkha/zk';

import { storageOverAgents } from '../storage-nodes/agent-directory.ts';
import { createServices } from '../container.ts';

const env = process.env;
const members = JSON.parse(env.ZKHA_MEMBERS!) as { name: string; host: string; port: number }[];
const nodes = members.map((m) => m.name);
const database = createDb(env.ZKHA_DB!);
const session = await ZkSession.connect(env.ZKHA_ZK!, { sessionTimeout: 6000 });
const storage = storageOverAgents(session, { token: env[AGENT_TOKEN_ENV]! });
// ZKHA_CAP (bytes per second): moves stream over HTTP under that cap; without it, the agents hard-link.
const cap = env.ZKHA_CAP ? Number(env.ZKHA_CAP) : null;
const services = createServices({
  db: database.db,
  storage,
  session,
  members,
  probe: (m) => probeEnsemble(m),
  probeIntervalMs: 60_000,
  scheduler: { enabled: false, intervalSec: 15, threshold: 5 },
  // Two batches at a time, so a kill lands mid-plan.
  migrations: { caps: { bandwidthBytesPerSec: cap, maxConcurrent: 2, maxPerNodeOut: 2, maxPerNodeIn: 2 } },
});
await services.init();

const mode = env.ZKHA_CHILD;
if (mode === 'seed') {
  for (const node of nodes)
    await services.workload.stress({ node, files: Number(env.ZKHA_FILES) / nodes.length, sizeKb: 1, triggerScheduler: false });
  console.log('SEEDED');
} else {
  services.engine.start();
  if (mode === 'work' && services.engine.openMigrations().length === 0) {
    // Random moves of half the files, each to another node: work for several kills.
    const files = [...services.index.list()].sort(() => Math.random() - 0.5).slice(0, Math.ceil(services.index.size / 2));
    const moves = files.map((f) => {
      const others = nodes.filter((n) => n !== f.node);
      return {
        uuid: f.uuid,
        name: f.name,
        from: f.node,
        to: others[Math.floor(Math.random() * others.length)]!,
        sizeBytes: f.sizeBytes,
        reason: 'crash test',
      };
    });
    services.engine.enqueue(moves);
  }
  console.log('READY');
  if (mode === 'finish') {
    await services.engine.drain(120_000);
    console.log('DRAINED');
  }
}
if (mode !== 'work') {
  await services.stop();
  storage.close();
  await session.close();
  database.close();
  process.exit(0);
}
