/**
 * The file metadata between SQLite and ZooKeeper in bulk, under election: a first leader publishes a database
 * that ZooKeeper has never seen (page by page), and an instance that joins reads the whole tree back (a few
 * hundred znodes at a time), dropping the rows ZooKeeper does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FileRecord } from '@zkha/core';
import { filesForPlanning, listAllFiles } from '@zkha/db';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { readFilesRoot, ZK_FILES_ROOT } from './file-metadata.ts';
import { electedInstance, fileRecord, until } from './test-helpers.ts';
import type { TestServices } from '../testing.ts';

/** More than one page of the first publish (4,096 records) and many reads of a full read (256 znodes). */
const N = 5000;

let ensemble: TestEnsemble;
const open: TestServices[] = [];
beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
});
afterAll(async () => {
  for (const t of open.splice(0).reverse()) await t.close().catch(() => undefined);
  await ensemble?.stop();
});

/** An instance under election whose database holds `rows` before it starts. */
const instance = (id: string, rows: readonly FileRecord[]) => electedInstance(ensemble, open, id, rows);

describe('file metadata in bulk', () => {
  it(
    'a first leader publishes every record of its database; an instance that joins reads them all back, and only them',
    { timeout: 120_000 },
    async () => {
      const leader = await instance(
        'a',
        Array.from({ length: N }, (_, i) => fileRecord(i)),
      );
      const client = leader.services.session.client;
      await until(async () => leader.services.control!.isLeader() && (await client.stat(ZK_FILES_ROOT))?.numChildren === N, 60_000);
      // Marked complete once every record is in: from now on the tree is the truth (see file-publish.int.test.ts).
      await until(async () => (await readFilesRoot(client)).published, 10_000);
      expect(await readFilesRoot(client)).toEqual({ published: true, files: N });
      for (const i of [0, 4095, 4096, N - 1])
        expect(await leader.services.metadata.get(fileRecord(i).uuid)).toMatchObject({
          uuid: fileRecord(i).uuid,
          node: fileRecord(i).node,
          size: 100 + i,
          history: fileRecord(i).history,
        });

      // A follower with one row ZooKeeper never had and one the leader's tree says otherwise about.
      const stale = fileRecord(N + 1);
      const differs = { ...fileRecord(7), node: 'zk2', sizeBytes: 1 };
      const follower = await instance('b', [stale, differs]);
      expect(follower.services.control!.role()).toBe('follower');
      await until(() => follower.services.index.size === N, 60_000);
      expect(listAllFiles(follower.services.db)).toEqual(listAllFiles(leader.services.db));
      expect([...filesForPlanning(follower.services.db)]).toEqual([...filesForPlanning(leader.services.db)]);
      expect(follower.services.index.get(stale.uuid)).toBeUndefined();
      expect(follower.services.index.get(differs.uuid)).toMatchObject({ node: fileRecord(7).node, sizeBytes: 107 });
      expect(follower.services.files.counts()).toEqual(leader.services.files.counts());
    },
  );
});
