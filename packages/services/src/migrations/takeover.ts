/**
 * What a new leader does with the shared journal before it starts its loops (and, now and then, with batches
 * left behind): every batch in flight is settled by what the file znodes say (already in this instance's database,
 * aligned with ZooKeeper just before), and every queued move whose file is still at its source is queued here.
 *
 * For each move of a batch, the file's znode decides:
 * - at the target: the move was committed; the source's copy goes (only that content, only if the target holds
 *   the file with that checksum and no file claims the source's name);
 * - at the source: not committed; the target's copy goes (only that content, unless a file claims the name);
 * - gone (deleted meanwhile) or elsewhere: any copy the move left on its target goes.
 * A node that does not answer keeps the batch in the journal, to be settled on a later pass.
 */
import { getFile, pathsOfFiles, type Db } from '@zkha/db';
import { locationOf, type FileStoragePort } from '@zkha/storage';

import type { MigrationEngine } from './engine.ts';
import { moveKey, type SharedBatch, type SharedMigrationJournal, type SharedMove } from './shared-journal.ts';

export interface SharedRecovery {
  batches: number;
  /** Moves found committed whose source copy was cleaned up. */
  rolledForward: number;
  /** Moves found uncommitted whose target copy was taken back. */
  rolledBack: number;
  /** Queued moves taken over (their file still at the source). */
  adopted: number;
  /** Batches left for a later pass (a node did not answer). */
  unsettled: number;
}

interface Deps {
  db: Db;
  storage: FileStoragePort;
  shared: SharedMigrationJournal;
  engine: MigrationEngine;
}

/** Settles one batch from the file znodes' word; false when some node did not answer (the batch stays). */
async function settleBatch(deps: Deps, batch: SharedBatch, report: SharedRecovery): Promise<boolean> {
  const { db, storage } = deps;
  const deletes = new Map<string, { name: string; ifSha256: string }[]>();
  const del = (node: string, m: SharedMove) => deletes.set(node, [...(deletes.get(node) ?? []), { name: m.name, ifSha256: m.sha256 }]);
  const claimed = pathsOfFiles(
    db,
    batch.moves.flatMap((m) => [locationOf(m.from, m.name), locationOf(m.to, m.name)]),
  );
  let ok = true;
  for (const m of batch.moves) {
    const file = getFile(db, m.uuid);
    if (file && file.node === m.to) {
      // Committed. The source's copy goes only once the target is seen to hold the file.
      if (claimed.has(locationOf(m.from, m.name))) continue;
      const there = await storage.stat(m.to, m.name).catch(() => undefined);
      if (there === undefined) ok = false;
      else if (there?.sha256 === m.sha256) {
        del(m.from, m);
        report.rolledForward++;
      }
    } else {
      if (claimed.has(locationOf(m.to, m.name))) continue;
      del(m.to, m);
      report.rolledBack++;
    }
  }
  for (const [node, files] of deletes) {
    try {
      const results = await storage.deleteMany(node, files);
      if (results.some((r) => !r.ok && r.code !== 'PRECONDITION_FAILED')) ok = false;
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** At takeover: settle every batch in flight, then take over the queue. */
export async function recoverShared(deps: Deps): Promise<SharedRecovery> {
  const report: SharedRecovery = { batches: 0, rolledForward: 0, rolledBack: 0, adopted: 0, unsettled: 0 };
  const { queued, batches } = await deps.shared.load();
  for (const b of batches) {
    report.batches++;
    if (await settleBatch(deps, b, report)) await deps.shared.batchEnded(b.path);
    else report.unsettled++;
  }
  // Moves this instance queued when it led before, whose file another leader has moved since: stale.
  for (const row of deps.engine.openMigrations()) if (getFile(deps.db, row.uuid)?.node !== row.source) deps.engine.cancel(row.id);
  const stillAtSource = queued.filter((m) => getFile(deps.db, m.uuid)?.node === m.from);
  report.adopted = deps.engine.adopt(stillAtSource).length;
  await pruneShared(deps);
  return report;
}

/**
 * The leader's housekeeping: batches no running move belongs to (left by a batch that ended unsettled, or by an
 * earlier leader) are settled, and moves that have ended leave the queue chunks.
 */
export async function tidyShared(deps: Deps): Promise<{ settled: number; pruned: { chunks: number; moves: number } }> {
  const openUuids = new Set(deps.engine.openMigrations().map((m) => m.uuid));
  const { batches } = await deps.shared.load();
  const report: SharedRecovery = { batches: 0, rolledForward: 0, rolledBack: 0, adopted: 0, unsettled: 0 };
  let settled = 0;
  for (const b of batches) {
    // A move of it is queued or running again here: settling could race that move's own copy. Later.
    if (b.moves.some((m) => openUuids.has(m.uuid))) continue;
    if (await settleBatch(deps, b, report)) {
      await deps.shared.batchEnded(b.path);
      settled++;
    }
  }
  return { settled, pruned: await pruneShared(deps) };
}

function pruneShared(deps: Deps) {
  const open = new Set(deps.engine.openMigrations().map(moveKey));
  return deps.shared.prune((m) => !open.has(moveKey(m)));
}
