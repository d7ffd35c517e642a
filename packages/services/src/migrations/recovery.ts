/**
 * Recovery of the migration journal: what a crash, or a batch that failed unexpectedly, left mid-way is finished or
 * undone. Before the commit point the source is intact, so copies a target holds are deleted there (only this
 * file's content, and only where no file row claims the name) and the task is queued again. After it, the database
 * already names the target, so ZooKeeper is brought in line and the source copy deleted. Moves whose agents do not
 * answer are left to be resolved again.
 */
import { isAppError, type FileRecord } from '@zkha/core';
import { commitMigrations, getFile, pathsOfFiles, updateMigrations, type Db, type MigrationRecord } from '@zkha/db';
import { parseLocation, type FileStoragePort } from '@zkha/storage';

import type { FileIndex } from '../files/file-index.ts';
import type { FileMetadataRegistry } from '../files/file-metadata.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import { where } from './location.ts';
import type { RecoveryReport } from './reports.ts';
import { groupBy } from './retry-queue.ts';

/** What recovery needs of the engine: its adapters, and the parts of a batch it finishes or undoes with. */
export interface RecoveryPort {
  db: Db;
  clock: Clock;
  storage: FileStoragePort;
  metadata: FileMetadataRegistry;
  index: FileIndex;
  operations: OperationsService;
  /** Deletes the copies ended moves may have left on their targets; returns the rows still owed. */
  cleanupCopies: (rows: readonly MigrationRecord[]) => Promise<MigrationRecord[]>;
  /** Finishes committed moves (znodes, source copies, journal). */
  settle: (items: readonly { row: MigrationRecord; file: FileRecord | null }[], opts: { verify: boolean }) => Promise<void>;
  recordMoves: (rows: readonly MigrationRecord[], countsBefore: Record<string, number>) => void;
  countNodes: (rows: readonly MigrationRecord[]) => string[];
  /** Retried later: copies owed a delete, and committed moves owed settling. */
  owedCleanups: { add(rows: readonly MigrationRecord[]): void };
  unsettled: { add(rows: readonly MigrationRecord[]): void };
}

type Located = { row: MigrationRecord; file: FileRecord };

/** What the journal says of each row: finish it (`forward`), undo it (`back`), its file gone, or only a copy owed. */
interface Sorted {
  forward: Located[];
  back: Located[];
  deleted: MigrationRecord[];
  ended: MigrationRecord[];
}

/** Whether an error says an agent did not answer (the move is left to be resolved again), not a bug. */
const unavailable = (err: unknown) => isAppError(err) && (err.code === 'STORAGE_UNAVAILABLE' || err.code === 'STORAGE_ERROR');

export async function recoverRows(
  port: RecoveryPort,
  rows: readonly MigrationRecord[],
): Promise<{ report: RecoveryReport; left: MigrationRecord[] }> {
  const { db } = port;
  const report: RecoveryReport = { rolledBack: 0, rolledForward: 0, requeued: 0 };
  const left: MigrationRecord[] = [];
  const { forward, back, deleted, ended } = sortRows(port, rows);
  port.owedCleanups.add(await port.cleanupCopies(ended));
  // Names a file row claims are never deleted, whatever the journal says.
  const claimed = pathsOfFiles(db, [...back.map((b) => b.row.targetPath), ...deleted.flatMap((m) => [m.sourcePath, m.targetPath])]);
  const { requeue, late, dropped, removals } = await inspectCopies(port, claimed, back, deleted, left);
  const failedNodes = await deleteCopies(port.storage, removals);
  // A move whose copy could not be deleted stays as it is, to be resolved again.
  const blocked = (m: MigrationRecord) => failedNodes.has(where(m.targetPath).node) || failedNodes.has(where(m.sourcePath).node);
  const requeued = requeue.filter((r) => !blocked(r.row));
  const gone = dropped.filter((m) => !blocked(m));
  left.push(...requeue.filter((r) => blocked(r.row)).map((r) => r.row), ...dropped.filter((m) => blocked(m)));

  forward.push(...commitLate(port, late));
  await writeOutcome(port, requeued, gone, forward);
  report.rolledForward = forward.length;
  report.rolledBack = requeued.length + gone.length;
  report.requeued = requeued.length;
  if (report.rolledBack + report.rolledForward > 0) {
    port.operations.record({ action: 'migration_recovery', status: 'success', details: { ...report, unresolved: left.length } });
  }
  return { report, left };
}

/**
 * Sorts the rows by what the journal and the file rows say; a row from before the agents (absolute paths) is
 * ended failed here, its file whole on its source.
 */
function sortRows(port: RecoveryPort, rows: readonly MigrationRecord[]): Sorted {
  const { db, clock } = port;
  const sorted: Sorted = { forward: [], back: [], deleted: [], ended: [] };
  for (const m of rows) {
    if (!parseLocation(m.sourcePath) || !parseLocation(m.targetPath)) {
      // A journal row from before the agents (absolute paths): its file is whole on its source; queue it again.
      updateMigrations(db, [m.id], {
        status: 'failed',
        phase: 'planned',
        bytesDone: 0,
        error: 'interrupted before an upgrade: plan the move again',
        finishedAt: clock.now().toISOString(),
      });
      continue;
    }
    if (m.status === 'failed' || m.status === 'cancelled') {
      // Ended before its commit point while its target did not answer: only the copy it may have left is owed.
      sorted.ended.push(m);
      continue;
    }
    const file = getFile(db, m.uuid);
    if (!file) sorted.deleted.push(m);
    else if (m.phase === 'committed' || file.path === m.targetPath) sorted.forward.push({ row: m, file });
    else sorted.back.push({ row: m, file });
  }
  return sorted;
}

/**
 * Asks the agents what the moves to undo, and those whose file was deleted, left: the copies to delete
 * (`removals`), the moves to queue again, the moves that got further than their journal (`late`), and the dropped
 * ones. A move whose agents do not answer goes to `left`.
 */
async function inspectCopies(
  port: RecoveryPort,
  claimed: ReadonlySet<string>,
  back: readonly Located[],
  deleted: readonly MigrationRecord[],
  left: MigrationRecord[],
): Promise<{ requeue: Located[]; late: MigrationRecord[]; dropped: MigrationRecord[]; removals: { location: string; sha256: string }[] }> {
  const { storage } = port;
  /** Whether `location` holds this move's bytes and no file row claims it. */
  const ours = async (m: MigrationRecord, location: string) => {
    const at = where(location);
    return !claimed.has(location) && (await storage.stat(at.node, at.name))?.sha256 === m.sha256;
  };
  const requeue: Located[] = [];
  const late: MigrationRecord[] = [];
  const removals: { location: string; sha256: string }[] = [];
  for (const { row: m, file } of back) {
    try {
      const targetOurs = await ours(m, m.targetPath);
      const src = where(m.sourcePath);
      if (targetOurs && file.path === m.sourcePath && (await storage.stat(src.node, src.name)) === null) {
        // Only the target holds the file: the move got further than its journal (a power cut can lose the last
        // database transactions and keep the agents' files). Finishing it is the only way to keep the file.
        late.push(m);
        continue;
      }
      if (targetOurs) removals.push({ location: m.targetPath, sha256: m.sha256 });
      requeue.push({ row: m, file });
    } catch (err) {
      if (!unavailable(err)) throw err;
      left.push(m);
    }
  }
  // The file was deleted while it moved: whichever of its copies is still there goes too.
  const dropped: MigrationRecord[] = [];
  for (const m of deleted) {
    try {
      for (const loc of [m.sourcePath, m.targetPath]) if (await ours(m, loc)) removals.push({ location: loc, sha256: m.sha256 });
      dropped.push(m);
    } catch (err) {
      if (!unavailable(err)) throw err;
      left.push(m);
    }
  }
  return { requeue, late, dropped, removals };
}

/** Deletes the copies, one call per node; returns the nodes where some could not be deleted. */
async function deleteCopies(storage: FileStoragePort, removals: readonly { location: string; sha256: string }[]): Promise<Set<string>> {
  const failedNodes = new Set<string>();
  for (const [node, group] of groupBy(removals, (x) => where(x.location).node)) {
    try {
      const results = await storage.deleteMany(
        node,
        group.map((x) => ({ name: where(x.location).name, ifSha256: x.sha256 })),
      );
      if (results.some((x) => !x.ok && x.code !== 'PRECONDITION_FAILED')) failedNodes.add(node);
    } catch (err) {
      if (!unavailable(err)) throw err;
      failedNodes.add(node);
    }
  }
  return failedNodes;
}

/** Commits the moves that got further than their journal (recorded as executed moves); returns them to finish. */
function commitLate(port: RecoveryPort, late: readonly MigrationRecord[]): Located[] {
  if (late.length === 0) return [];
  const at = port.clock.now().toISOString();
  const { committed } = commitMigrations(
    port.db,
    late.map((m) => ({
      id: m.id,
      uuid: m.uuid,
      sourcePath: m.sourcePath,
      target: m.target,
      targetPath: m.targetPath,
      historyEntry: { action: 'migrate', from: m.source, to: m.target, at },
    })),
    at,
  );
  const forward: Located[] = [];
  for (const m of late) {
    const file = committed.get(m.id);
    if (file) forward.push({ row: { ...m, phase: 'committed' }, file });
  }
  // Moves committed here, not by the pull that got that far: they are executed moves all the same.
  const moved = late.filter((m) => committed.has(m.id));
  port.recordMoves(moved, port.index.counts(port.countNodes(moved)));
  for (const m of moved) port.index.move(m.uuid, m.target, 'migrate');
  return forward;
}

/** Journals the outcome: undone moves queued again, dropped ones failed, ZooKeeper in line, committed ones settled. */
async function writeOutcome(
  port: RecoveryPort,
  requeued: readonly Located[],
  gone: readonly MigrationRecord[],
  forward: readonly Located[],
): Promise<void> {
  const { db, clock } = port;
  updateMigrations(
    db,
    requeued.map((r) => r.row.id),
    { status: 'pending', phase: 'planned', bytesDone: 0, error: null },
  );
  updateMigrations(
    db,
    gone.map((m) => m.id),
    {
      status: 'failed',
      phase: 'planned',
      bytesDone: 0,
      error: 'the file was deleted during the migration',
      finishedAt: clock.now().toISOString(),
    },
  );
  // ZooKeeper holds the database's view of a rolled-back file (only a power cut could have put it ahead).
  await port.metadata.putMany(requeued.map((r) => r.file));
  try {
    await port.settle(forward, { verify: true });
  } catch (err) {
    if (!unavailable(err)) throw err;
    // Committed: they need only finishing, which the settle retries do.
    port.unsettled.add(forward.map((f) => ({ ...f.row, phase: 'committed' as const })));
  }
}
