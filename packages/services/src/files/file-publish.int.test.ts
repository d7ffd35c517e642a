/**
 * A first publish of the file metadata cut short (ZooKeeper out of memory, the instance killed, its session
 * expired) leaves /zkha/files holding part of the records and no `published` mark on the root. Such a tree is
 * incomplete: no instance trims its database to it, and the next leader publishes the union before marking it.
 * Once marked, the tree is the truth again: deletes reach the followers, by the feed and by a full read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FileRecord } from '@zkha/core';
import { countFiles, createDb, deleteFile, getFile, insertFiles, listAllFiles } from '@zkha/db';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { AppEvents } from '../shared/event-bus.ts';
import { FileIndex } from './file-index.ts';
import { FileMetadataRegistry, readFilesRoot, ZK_FILES_ROOT } from './file-metadata.ts';
import { FileProjection } from './file-projection.ts';
import { electedInstance, fileRecord, until } from './test-helpers.ts';
import { TEST_ZK_AUTH, type TestServices } from '../testing.ts';

/** Several multis of a publish (64 records each); the first 128 stand for the batches that made it. */
const N = 300;
const CUT_AFTER = 128;

const all = Array.from({ length: N }, (_, i) => fileRecord(i));
/** A record in the tree that the leader's database lacks; the tree then holds the union, TOTAL records. */
const other = fileRecord(N + 3);
const TOTAL = N + 1;

let ensemble: TestEnsemble;
let dir: string;
const open: TestServices[] = [];
beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-publish-'));
});
afterAll(async () => {
  for (const t of open.splice(0).reverse()) await t.close().catch(() => undefined);
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An instance under election whose database holds `rows` before it starts. */
const instance = (id: string, rows: readonly FileRecord[]) => electedInstance(ensemble, open, id, rows);

describe('a first publish cut short', () => {
  it(
    'loses no record: a follower keeps its rows, the next leader publishes the rest and marks the tree',
    { timeout: 120_000 },
    async () => {
      // What a publish killed after two multis leaves: the first records' znodes, no mark. And one record this
      // instance never had (another instance's publish, cut short as well).
      const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000, auth: TEST_ZK_AUTH });
      const database = createDb(path.join(dir, 'follower.db'));
      try {
        const registry = new FileMetadataRegistry(session);
        await registry.init();
        await registry.putMany([...all.slice(0, CUT_AFTER), other], { create: true });
        expect(await readFilesRoot(session.client)).toEqual({ published: false, files: CUT_AFTER + 1 });

        // A follower's full read over that tree keeps every row of its database, and adds what it lacked.
        const mine = fileRecord(N + 1);
        insertFiles(database.db, [...all, mine]);
        const projection = new FileProjection({ session, db: database.db, index: new FileIndex(), events: new AppEvents() });
        await projection.start();
        try {
          expect(countFiles(database.db)).toBe(N + 2);
          expect(projection.treeComplete).toBe(false);

          // The instance whose publish was cut short comes back and leads: nothing is trimmed, the rest is published.
          const leader = await instance('a', all);
          await until(async () => leader.services.control!.isLeader() && (await readFilesRoot(client(leader))).published, 60_000);
          expect(await readFilesRoot(client(leader))).toEqual({ published: true, files: TOTAL });
          expect(countFiles(leader.services.db)).toBe(TOTAL);
          expect(leader.services.index.size).toBe(TOTAL);
          expect(getFile(leader.services.db, other.uuid)).toMatchObject({ uuid: other.uuid, node: other.node });
          for (const i of [0, CUT_AFTER - 1, CUT_AFTER, N - 1])
            expect(await leader.services.metadata.get(fileRecord(i).uuid)).toMatchObject({
              uuid: fileRecord(i).uuid,
              node: fileRecord(i).node,
              size: 100 + i,
            });
          expect((await leader.services.health()).fileTree).toBe('complete');
          expect((await leader.services.controlStatus()).fileTree).toBe('complete');

          // Marked: the follower reads the tree again, now the truth, and drops the row no instance published.
          await until(() => projection.treeComplete === true, 30_000);
          expect(countFiles(database.db)).toBe(TOTAL);
          expect(getFile(database.db, mine.uuid)).toBeNull();
        } finally {
          projection.stop();
        }
      } finally {
        database.close();
        await session.close();
      }
    },
  );

  it('once the tree is marked, a delete still reaches the followers, by the feed and by a full read', { timeout: 120_000 }, async () => {
    const leader = open[0]!;
    const stale = fileRecord(N + 2);
    const follower = await instance('b', [...all, stale]);
    expect(follower.services.control!.role()).toBe('follower');
    // Marked: the row the tree never had goes.
    await until(() => follower.services.index.size === TOTAL, 30_000);
    expect(getFile(follower.services.db, stale.uuid)).toBeNull();
    expect((await follower.services.health()).fileTree).toBe('complete');

    // The leader deletes a file: its removal reaches the follower through the feed.
    const gone = fileRecord(5);
    await leader.services.metadata.remove(gone.uuid);
    deleteFile(leader.services.db, gone.uuid);
    await until(() => follower.services.index.get(gone.uuid) === undefined, 30_000);
    expect(getFile(follower.services.db, gone.uuid)).toBeNull();

    // An instance that was away meanwhile (its database still has the file) drops it on its full read.
    const away = await instance('c', all);
    await until(() => countFiles(away.services.db) === TOTAL - 1, 30_000);
    expect(getFile(away.services.db, gone.uuid)).toBeNull();
    expect(listAllFiles(away.services.db)).toEqual(listAllFiles(leader.services.db));
    expect(await client(leader).stat(ZK_FILES_ROOT)).toMatchObject({ numChildren: TOTAL - 1 });
  });
});

function client(t: TestServices) {
  return t.services.session.client;
}
