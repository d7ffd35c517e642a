import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { commitMigrations, markMigrationsCopied, pathsOfFiles, startMigrations, type Db, type MigrationRecord } from '@zkha/db';
import type { FileStoragePort, TPullFileResult } from '@zkha/storage';

import type { FileIndex } from '../files/file-index.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import { BatchUndo } from './batch-undo.ts';
import { errMessage } from './location.ts';
import { moveCountNodes, recordMoveOperations } from './move-record.ts';
import type { MigrationNotices } from './notices.ts';
import type { OpenTasks } from './open-tasks.ts';
import type { BatchPoint } from './reports.ts';
import type { MoveSettlement } from './settlement.ts';
import type { SharedMigrationJournal } from './shared-journal.ts';
import type { TransferMeter } from './transfer-meter.ts';

/** How often a running batch's progress is read from its target agent. */
const PROGRESS_POLL_MS = 500;

/** A move in a running batch: its journal row as last written, its cancel switch, and its bytes so far. */
export interface Running {
  row: MigrationRecord;
  abort: AbortController;
  bytesDone: number;
  startedAt: number;
}

/** The engine's adapters and callbacks a batch uses (a subset of MigrationEngine's deps). */
export interface BatchDeps {
  db: Db;
  storage: FileStoragePort;
  index: FileIndex;
  operations: OperationsService;
  clock: Clock;
  mayAct?: () => boolean;
  shared?: SharedMigrationJournal | null;
  nodes?: readonly string[];
  onMigration?: (result: 'success' | 'failed') => void;
  atBatchPoint?: (point: BatchPoint, ids: readonly number[]) => Promise<void> | void;
}

/** The engine's parts a batch works with: the journal in memory, the notices, the meter, settling and the retries. */
export interface BatchParts {
  tasks: OpenTasks;
  notices: MigrationNotices;
  meter: TransferMeter;
  settlement: MoveSettlement;
  /** Ended moves whose target owes the delete of a copy. */
  owedCleanups: { add(rows: readonly MigrationRecord[]): void };
  /** Committed moves owed settling. */
  unsettled: { add(rows: readonly MigrationRecord[]): void };
  /** The bandwidth cap now (bytes per second per node), or null. */
  bandwidthCap: () => number | null;
  sameHostLinks: boolean;
  /** Whether the engine is stopped (an undone move then goes back to pending). */
  stopped: () => boolean;
}

/**
 * Runs one admitted batch between a pair of nodes through its phases: the pull over the storage port, the commit
 * point, and the undo, failure and audit record of its moves. The engine's admission decides what runs; this
 * decides nothing about the queue.
 */
export class BatchRunner {
  private readonly tasks: OpenTasks;
  private readonly notices: MigrationNotices;
  private readonly meter: TransferMeter;
  private readonly settlement: MoveSettlement;
  private readonly unsettled: BatchParts['unsettled'];
  /** Ends moves before their commit point: the undo of copies, and failures. */
  private readonly undoing: BatchUndo;

  constructor(
    private readonly deps: BatchDeps,
    private readonly parts: BatchParts,
  ) {
    this.tasks = parts.tasks;
    this.notices = parts.notices;
    this.meter = parts.meter;
    this.settlement = parts.settlement;
    this.unsettled = parts.unsettled;
    this.undoing = new BatchUndo(deps, parts);
  }

  /**
   * One batch between a pair of nodes. Each phase is journaled for the whole batch in one statement before the
   * agents are asked to do it: `copying`, then the target pulls the files from the source (each verified before it
   * is visible there), `copied`, one transaction moves the file rows (`committed`), one round of ZooKeeper multis,
   * one delete on the source (of exactly the content that was verified), and `cleaned`. Recovery handles a crash
   * between any two steps; a cancelled move is undone only while it is before the commit point.
   */
  /**
   * Runs a batch. Under leader election its moves are first named in the shared journal (one znode, fenced), so
   * an instance taking over after this one dies knows what was in flight; the znode goes once the batch is settled.
   */
  async execute(rs: Running[]): Promise<void> {
    const shared = this.deps.shared;
    if (!shared) {
      await this.executeBatch(rs);
      return;
    }
    const { source, target } = rs[0]!.row;
    let journaled: string;
    try {
      journaled = await shared.batchStarted(
        source,
        target,
        rs.map((r) => r.row),
      );
    } catch {
      // Not named, not started (no quorum, or no longer the leader): the moves stay queued; look again shortly.
      await sleep(1000);
      return;
    }
    if (await this.executeBatch(rs)) await shared.batchEnded(journaled).catch(() => undefined);
  }

  /** One batch through its phases; false when it ends unsettled (left for the retry queue, or requeued unconfirmed). */
  private async executeBatch(rs: Running[]): Promise<boolean> {
    const { db, clock } = this.deps;
    const t0 = performance.now();
    const point = async (p: BatchPoint, rows: readonly Running[]) => {
      if (this.deps.atBatchPoint && rows.length > 0)
        await this.deps.atBatchPoint(
          p,
          rows.map((r) => r.row.id),
        );
    };
    const startedAt = clock.now().toISOString();
    let batch = this.tasks.updateMany(
      rs.map((r) => r.row),
      { status: 'running', phase: 'copying', startedAt, error: null },
      (ids) => startMigrations(db, ids, startedAt),
    );
    rs.forEach((r, i) => (r.row = batch[i]!));
    await point('copying', rs);
    const { source, target } = rs[0]!.row;

    // A name on the target that another file's row claims is that file's, even with the same bytes: never adopted.
    const claimed = pathsOfFiles(
      db,
      rs.map((r) => r.row.targetPath),
    );
    for (const r of rs)
      if (claimed.has(r.row.targetPath))
        this.fail(r.row, `${r.row.name} not moved: another file named ${r.row.name} already exists on ${target}`);
    const pulling = rs.filter((r) => !claimed.has(r.row.targetPath) && !r.abort.signal.aborted);
    // Cancelled (or stopped) before the pull began: nothing to take back.
    this.undoing.endMoves(
      rs.filter((r) => !claimed.has(r.row.targetPath) && r.abort.signal.aborted).map((r) => r.row),
      null,
      'planned',
    );

    const pull = await this.pullBatch(pulling, source, target);
    if (!pull) return true;
    const { results, transfer, polled } = pull;
    const pulled: Running[] = [];
    results.forEach((res, i) => {
      const r = pulling[i]!;
      if (!res.ok) this.fail(r.row, `${r.row.name} not moved to ${target}: ${res.message} (${res.code})`);
      else pulled.push(r);
    });
    await point('pulled', pulled);
    // Cancelled (or stopped) before the commit point: the copy is taken back, the file stays on its source.
    const cancelled = pulled.filter((r) => r.abort.signal.aborted);
    if (cancelled.length > 0) await this.undoing.undo(cancelled, null);
    const copied = pulled.filter((r) => !r.abort.signal.aborted);

    batch = this.tasks.updateMany(
      copied.map((r) => r.row),
      { phase: 'copied' },
      (ids) => markMigrationsCopied(db, ids),
    );
    for (const [i, r] of copied.entries()) {
      r.row = { ...batch[i]!, bytesDone: r.row.bytes };
      r.bytesDone = r.row.bytes;
    }
    const copiedBytes = copied.reduce((a, r) => a + r.row.bytes, 0);
    if (copiedBytes > polled()) this.meter.note(source, target, copiedBytes - polled());
    await point('copied', copied);

    return this.commitBatch(copied, transfer, t0, point);
  }

  /**
   * The batch's commit point and after: the copied moves are committed in one transaction (unless this instance no
   * longer leads), the index and the audit follow, then the znodes are written and the sources deleted (settle).
   * True when the batch ended; false when its moves wait (back in the queue, or owed settling).
   */
  private async commitBatch(
    copied: readonly Running[],
    transfer: { bytesOnWire: number; linkedFiles: number },
    t0: number,
    point: (p: BatchPoint, rows: readonly Running[]) => Promise<void>,
  ): Promise<boolean> {
    const { db, clock, index } = this.deps;
    if (this.deps.mayAct?.() === false) {
      // The lead is not confirmed (the ensemble is out of reach, or another instance leads now): nothing is
      // committed and nothing deleted. Back to the queue; the copies stay where they are, for this instance to use
      // once the lead is confirmed again, or for the new leader's recovery (the shared journal names them).
      this.tasks.updateMany(
        copied.map((r) => r.row),
        { status: 'pending', phase: 'copying', bytesDone: 0, error: null },
      );
      this.notices.progress();
      return false;
    }
    const at = clock.now().toISOString();
    let result: ReturnType<typeof commitMigrations>;
    try {
      result = commitMigrations(
        db,
        copied.map((r) => ({
          id: r.row.id,
          uuid: r.row.uuid,
          sourcePath: r.row.sourcePath,
          target: r.row.target,
          targetPath: r.row.targetPath,
          historyEntry: { action: 'migrate', from: r.row.source, to: r.row.target, at },
        })),
        at,
      );
    } catch (err) {
      // The database refused the commit: nothing moved, take the copies back.
      await this.undoing.undo(copied, errMessage(err));
      this.notices.progress();
      return true;
    }
    // A file deleted (or moved by someone else) during the pull: the copy is ours and the only thing to undo.
    const gone = copied.filter((r) => !result.committed.has(r.row.id));
    if (gone.length > 0) await this.undoing.undo(gone, 'the file was deleted or moved during the migration');
    const committed = copied.filter((r) => result.committed.has(r.row.id));
    this.tasks.updateMany(
      committed.map((r) => r.row),
      { phase: 'committed' },
      () => undefined,
    );
    const countsBefore = index.counts(this.countNodes(committed.map((r) => r.row)));
    for (const r of committed) index.move(r.row.uuid, r.row.target, 'migrate');
    this.recordMoves(
      committed.map((r) => r.row),
      countsBefore,
      transfer,
    );
    if (committed.length > 0) this.notices.filesChanged();
    await point('committed', committed);
    return this.settleBatch(committed, result.committed, t0, point);
  }

  /**
   * Past the batch's commit point: the znodes are written and the sources deleted (settle). True when the batch
   * ended; false when its moves are owed settling (retried).
   */
  private async settleBatch(
    committed: readonly Running[],
    files: ReturnType<typeof commitMigrations>['committed'],
    t0: number,
    point: (p: BatchPoint, rows: readonly Running[]) => Promise<void>,
  ): Promise<boolean> {
    try {
      await this.settlement.settle(
        committed.map((r) => ({ row: r.row, file: files.get(r.row.id)! })),
        { seconds: () => (performance.now() - t0) / 1000, verify: false, point: (p) => point(p, committed) },
      );
      for (let i = 0; i < committed.length; i++) this.deps.onMigration?.('success');
      return true;
    } catch (err) {
      // Past the commit point the moves only have to be finished: retried until ZooKeeper and the agents agree.
      this.unsettled.add(
        this.tasks.updateMany(
          committed.map((r) => r.row),
          { error: errMessage(err) },
        ),
      );
      return false;
    } finally {
      this.notices.progress();
    }
  }

  /**
   * The batch's pull: the target fetches the files from the source (or links them), under the bandwidth cap, while
   * its progress is read from the target. Null when the pull failed or was cancelled whole: its moves are undone.
   */
  private async pullBatch(
    pulling: readonly Running[],
    source: string,
    target: string,
  ): Promise<{ results: TPullFileResult[]; transfer: { bytesOnWire: number; linkedFiles: number }; polled: () => number } | null> {
    const { storage } = this.deps;
    // The pull stops when every move in it is cancelled (or the engine stops); a single cancelled move is undone
    // after it, as its copy may already be in place.
    const all = new AbortController();
    const onAbort = () => {
      if (pulling.every((r) => r.abort.signal.aborted)) all.abort();
    };
    for (const r of pulling) r.abort.signal.addEventListener('abort', onAbort, { once: true });
    const cap = this.parts.bandwidthCap();
    let results: TPullFileResult[] = [];
    // How the batch travelled, as the target reports it: bytes over HTTP, and files hard-linked on one host.
    let transfer = { bytesOnWire: 0, linkedFiles: 0 };
    // A long pull answers once, at its end: its progress is read from the target meanwhile (the bytes it received,
    // laid over the batch's files in order), so bars, rates and ETAs move while it runs.
    const pullId = randomUUID();
    let polled = 0;
    const follow = setInterval(() => {
      void storage
        .pullProgress(target, pullId)
        .then((p) => {
          if (!p) return;
          if (p.bytes > polled) this.meter.note(source, target, p.bytes - polled);
          polled = Math.max(polled, p.bytes);
          let left = p.bytes;
          for (const r of pulling) {
            r.bytesDone = Math.max(r.bytesDone, Math.min(r.row.bytes, left));
            left -= r.bytesDone;
          }
          this.notices.progress();
        })
        .catch(() => undefined);
    }, PROGRESS_POLL_MS);
    try {
      if (pulling.length > 0) {
        const pulled = await storage.pull(
          target,
          source,
          pulling.map((r) => ({ name: r.row.name, sha256: r.row.sha256, sizeBytes: r.row.bytes })),
          { bytesPerSec: cap, link: cap === null && this.parts.sameHostLinks, id: pullId, signal: all.signal },
        );
        results = pulled.results;
        transfer = { bytesOnWire: pulled.bytes, linkedFiles: pulled.linked ?? 0 };
      }
    } catch (err) {
      // Whatever the target published before the failure is taken back; nothing was committed.
      await this.undoing.undo(pulling, all.signal.aborted ? null : `${target} could not pull from ${source}: ${errMessage(err)}`);
      this.notices.progress();
      return null;
    } finally {
      clearInterval(follow);
      for (const r of pulling) r.abort.signal.removeEventListener('abort', onAbort);
    }
    // The bytes polled so far, read when asked: a poll still in flight may add to them.
    return { results, transfer, polled: () => polled };
  }

  /** The nodes whose file counts a move operation shows: the storage nodes, and any node the moves touch. */
  countNodes(rows: readonly MigrationRecord[]): string[] {
    return moveCountNodes(this.deps.nodes ?? [], rows);
  }

  /** The committed moves' operations (see recordMoveOperations); `countsBefore` are the file counts before the index moved. */
  recordMoves(
    rows: readonly MigrationRecord[],
    countsBefore: Record<string, number>,
    transfer?: { bytesOnWire: number; linkedFiles: number },
  ): void {
    recordMoveOperations(this.deps.operations, rows, countsBefore, transfer);
  }

  /** A move that cannot be done: back to `planned` with its error, the file whole on its source. */
  fail(row: MigrationRecord, message: string, phase: 'planned' | 'copying' = 'planned'): void {
    this.undoing.fail(row, message, phase);
  }
}
