/**
 * What the migrations need around the engine when an instance leads or follows: recovery before anything moves,
 * settling what the shared journal holds, a follower's view of the leader's queue, and a hold that waits for the
 * moves running now (a consistency check must not see files mid-move).
 */
import { AppError } from '@zkha/core';
import { filesForPlanning, type Db } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';

import type { FileIndex } from '../files/file-index.ts';
import type { MigrationEngine } from './engine.ts';
import { moveKey, type SharedMigrationJournal } from './shared-journal.ts';
import { recoverShared, tidyShared } from './takeover.ts';

/** How often the leader settles batches left in the shared journal and drops ended moves from its queue. */
const SHARED_TIDY_MS = 5_000;
/** How often a follower reads the leader's queue from the shared journal. */
const QUEUE_VIEW_MS = 1_000;

/**
 * Finishes or undoes whatever a crash left mid-migration (see MigrationEngine.recover) and reloads the file index
 * when a move was rolled either way.
 */
export async function recoverMigrations(deps: { db: Db; index: FileIndex; engine: MigrationEngine }): Promise<Record<string, number>> {
  const recovery = await deps.engine.recover();
  if (recovery.rolledBack + recovery.rolledForward > 0) deps.index.load(filesForPlanning(deps.db));
  return { ...recovery };
}

/**
 * Under election, a new leader's part of the shared journal: finish the batches the last leader left, adopt its
 * queue, then settle what is left every few seconds while it leads.
 */
export class SharedJournalDuties {
  private tidyTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { db: Db; storage: FileStoragePort; shared: SharedMigrationJournal; engine: MigrationEngine; index: FileIndex },
  ) {}

  /** Recovers from the shared journal (figures prefixed `shared_`) and starts tidying it. */
  async start(): Promise<Record<string, number>> {
    const { db, storage, shared, engine, index } = this.deps;
    const fromShared = await recoverShared({ db, storage, shared, engine });
    if (fromShared.rolledBack + fromShared.rolledForward > 0) index.load(filesForPlanning(db));
    this.tidyTimer = setInterval(() => void tidyShared({ db, storage, shared, engine }).catch(() => undefined), SHARED_TIDY_MS);
    this.tidyTimer.unref();
    return Object.fromEntries(Object.entries(fromShared).map(([k, v]) => [`shared_${k}`, v]));
  }

  stop(): void {
    if (this.tidyTimer) clearInterval(this.tidyTimer);
    this.tidyTimer = null;
    this.deps.shared.reset();
  }
}

/** A follower's view of the leader's migration queue, read from the shared journal every second. */
export class SharedQueueView {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { shared: SharedMigrationJournal; engine: MigrationEngine; index: FileIndex }) {}

  start(): void {
    if (this.timer) return;
    const { shared, engine, index } = this.deps;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void shared
        .load()
        .then(({ queued, batches }) => {
          const running = new Set(batches.flatMap((b) => b.moves.map(moveKey)));
          const inBatches = batches.flatMap((b) => b.moves.map((move) => ({ move, running: true })));
          // A queued move whose file is at its target already is done (the leader drops it from the chunk shortly).
          const waiting = queued
            .filter((m) => !running.has(moveKey(m)) && index.get(m.uuid)?.node !== m.to)
            .map((move) => ({ move, running: false }));
          engine.projectShared([...inBatches, ...waiting], (uuid) => index.get(uuid)?.node ?? null);
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, QUEUE_VIEW_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * Holds the queue and waits for the moves copying now to end: returns the release. A hold of its own, not the
 * operator's pause: toggling that one let a check that started before an operator paused the queue resume it
 * when it ended (seen in the quorum drill under load).
 */
export async function quiesceMigrations(engine: MigrationEngine, timeoutMs = 60_000): Promise<() => void> {
  const release = engine.hold();
  const deadline = Date.now() + timeoutMs;
  while (engine.progress().totals.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (engine.progress().totals.running > 0) {
    release();
    throw new AppError(
      'CONFLICT',
      'migrations are still copying after 60 s: the check would see files mid-move; try again, or pause the queue first',
    );
  }
  return release;
}
