/**
 * The projection's checkpoint across a clean stop (ProjectionCheckpoints): a restart applies the change feed from
 * where the table stood instead of reading every file znode, and reads everything whenever the checkpoint cannot be
 * trusted: the feed pruned past it, a metadata write that failed before the stop, a table changed while stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, insertFiles, listAllFiles } from '@zkha/db';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk-local/testing';

import { readFilesRoot } from './file-metadata.ts';
import { electedInstance, fileRecord, until } from './test-helpers.ts';
import type { TestServices } from '../testing.ts';

const N = 300;

let ensemble: TestEnsemble;
let root: string;
const open: TestServices[] = [];
beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  root = await mkdtemp(path.join(tmpdir(), 'zkha-checkpoint-'));
});
afterAll(async () => {
  for (const t of open.splice(0).reverse()) await t.close().catch(() => undefined);
  await ensemble?.stop();
  await rm(root, { recursive: true, force: true });
});

async function stop(t: TestServices): Promise<void> {
  open.splice(open.indexOf(t), 1);
  await t.close();
}

const nodeOf = (t: TestServices, i: number) => t.services.index.get(fileRecord(i).uuid)?.node;

describe('the file projection across a clean stop', () => {
  it(
    'resumes from the feed where the table stood; reads everything when the feed was pruned past it, a write failed, or the table changed',
    { timeout: 120_000 },
    async () => {
      const dirA = path.join(root, 'a');
      // A first leader publishes its N rows, then stops cleanly while leading.
      const a = await electedInstance(
        ensemble,
        open,
        'a',
        Array.from({ length: N }, (_, i) => fileRecord(i)),
        dirA,
      );
      await until(async () => a.services.control!.isLeader() && (await readFilesRoot(a.services.session.client)).published, 60_000);
      await stop(a);
      // Its stop demoted it without a full read of the tree as a follower on the way out.
      expect(a.services.projection!.stats.fullReads).toBe(0);

      // Meanwhile another leader changes the tree: a move, a delete, a new file.
      const b = await electedInstance(ensemble, open, 'b', [], path.join(root, 'b'));
      await until(() => b.services.control!.isLeader() && b.services.index.size === N, 60_000);
      expect(nodeOf(b, 1)).toBe('zk2');
      await b.services.metadata.put({ ...fileRecord(1), node: 'zk3', path: 'zk3/f-1.bin' });
      await b.services.metadata.remove(fileRecord(2).uuid);
      await b.services.metadata.put(fileRecord(N));

      // The first instance comes back as a follower: three feed entries applied, no full read.
      const a2 = await electedInstance(ensemble, open, 'a', [], dirA);
      await until(() => nodeOf(a2, 1) === 'zk3' && nodeOf(a2, 2) === undefined && nodeOf(a2, N) !== undefined, 30_000);
      expect(a2.services.projection!.stats).toMatchObject({ resumed: 1, fullReads: 0, entries: 3 });
      expect(listAllFiles(a2.services.db)).toHaveLength(N);
      expect(a2.services.files.counts()).toEqual({ zk1: 101, zk2: 99, zk3: 100 }); // f-1 zk2 -> zk3, f-2 (zk3) gone, f-300 on zk1

      // Stopped as a follower; the leader writes on and prunes the feed past where the follower stood.
      await stop(a2);
      for (const i of [3, 4, 5]) await b.services.metadata.put({ ...fileRecord(i), node: 'zk1', path: `zk1/f-${i}.bin` });
      await b.services.metadata.pruneFeed(1);
      const a3 = await electedInstance(ensemble, open, 'a', [], dirA);
      await until(() => a3.services.projection!.stats.fullReads === 1, 30_000);
      expect([3, 4, 5].map((i) => nodeOf(a3, i))).toEqual(['zk1', 'zk1', 'zk1']);
      expect(a3.services.index.size).toBe(N);

      // A metadata write that failed (a follower may not write: NotLeaderError): no checkpoint at the stop.
      await expect(a3.services.metadata.put(fileRecord(N + 1))).rejects.toThrow();
      expect(a3.services.metadata.writeFailed).toBe(true);
      await stop(a3);
      const a4 = await electedInstance(ensemble, open, 'a', [], dirA);
      await until(() => a4.services.projection!.stats.fullReads === 1, 30_000);
      expect(a4.services.projection!.stats.resumed).toBe(0);

      // A table changed while stopped (a row the tree does not have): the count says so, everything is read again.
      await stop(a4);
      const db = createDb(path.join(dirA, 'zkha.db'));
      insertFiles(db.db, [fileRecord(N + 2)]);
      db.close();
      const a5 = await electedInstance(ensemble, open, 'a', [], dirA);
      await until(() => a5.services.projection!.stats.fullReads === 1, 30_000);
      expect(a5.services.projection!.stats.resumed).toBe(1);
      expect(nodeOf(a5, N + 2)).toBeUndefined();
      expect(a5.services.index.size).toBe(N);
    },
  );
});
