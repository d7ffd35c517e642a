/**
 * The file metadata between SQLite and ZooKeeper in bulk, under election: a first leader publishes a database
 * that ZooKeeper has never seen (page by page), and an instance that joins reads the whole tree back (a few
 * hundred znodes at a time), dropping the rows ZooKeeper does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { filesForPlanning, insertFiles, listAllFiles, type NewFileRecord } from '@zkha/db';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { readFilesRoot, ZK_FILES_ROOT } from './file-metadata.ts';
import { createTestServices, type TestServices } from '../testing.ts';

/** More than one page of the first publish (4,096 records) and many reads of a full read (256 znodes). */
const N = 5000;

function record(i: number): NewFileRecord {
  const node = ['zk1', 'zk2', 'zk3'][i % 3]!;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `f-${i}.bin`,
    node,
    path: `${node}/f-${i}.bin`,
    sizeBytes: 100 + i,
    sha256: String(i % 16)
      .repeat(64)
      .slice(0, 64),
    createdAt: at,
    updatedAt: at,
    history: [{ action: 'created', node, at }],
  };
}

let ensemble: TestEnsemble;
const open: TestServices[] = [];
beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
});
afterAll(async () => {
  for (const t of open.splice(0).reverse()) await t.close().catch(() => undefined);
  await ensemble?.stop();
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An instance under election whose database holds `rows` before it starts. */
async function instance(id: string, rows: NewFileRecord[]): Promise<TestServices> {
  const t = await createTestServices({ ensemble, inProcessAgents: false, services: { control: { id, url: `http://127.0.0.1/${id}` } } });
  open.push(t);
  insertFiles(t.services.db, rows);
  await t.services.init(); // loads the index from the rows just inserted
  await t.services.start();
  return t;
}

describe('file metadata in bulk', () => {
  it(
    'a first leader publishes every record of its database; an instance that joins reads them all back, and only them',
    { timeout: 120_000 },
    async () => {
      const leader = await instance(
        'a',
        Array.from({ length: N }, (_, i) => record(i)),
      );
      const client = leader.services.session.client;
      await until(async () => leader.services.control!.isLeader() && (await client.stat(ZK_FILES_ROOT))?.numChildren === N, 60_000);
      // Marked complete once every record is in: from now on the tree is the truth (see file-publish.int.test.ts).
      await until(async () => (await readFilesRoot(client)).published, 10_000);
      expect(await readFilesRoot(client)).toEqual({ published: true, files: N });
      for (const i of [0, 4095, 4096, N - 1])
        expect(await leader.services.metadata.get(record(i).uuid)).toMatchObject({
          uuid: record(i).uuid,
          node: record(i).node,
          size: 100 + i,
          history: record(i).history,
        });

      // A follower with one row ZooKeeper never had and one the leader's tree says otherwise about.
      const stale = record(N + 1);
      const differs = { ...record(7), node: 'zk2', sizeBytes: 1 };
      const follower = await instance('b', [stale, differs]);
      expect(follower.services.control!.role()).toBe('follower');
      await until(() => follower.services.index.size === N, 60_000);
      expect(listAllFiles(follower.services.db)).toEqual(listAllFiles(leader.services.db));
      expect([...filesForPlanning(follower.services.db)]).toEqual([...filesForPlanning(leader.services.db)]);
      expect(follower.services.index.get(stale.uuid)).toBeUndefined();
      expect(follower.services.index.get(differs.uuid)).toMatchObject({ node: record(7).node, sizeBytes: 107 });
      expect(follower.services.files.counts()).toEqual(leader.services.files.counts());
    },
  );
});
