/** What the migration engine reports: its progress, its status, what a recovery did, and the points of a batch. */
import type { Caps, OrderingPolicy, WaitingTask } from '@zkha/core';
import type { MigrationRecord } from '@zkha/db';

export interface MigrationProgress {
  tasks: (MigrationRecord & { etaMs: number | null })[];
  totals: {
    pending: number;
    running: number;
    paused: number;
    bytesDone: number;
    bytesLeft: number;
    rateBytesPerSec: number;
    etaMs: number | null;
    /** Ended moves whose target still owes the delete of a copy they may have left (its agent did not answer). */
    cleanupsOwed: number;
  };
  waiting: WaitingTask[];
  caps: Caps;
  policy: OrderingPolicy;
  paused: boolean;
  /** Adaptive caps on or off, live (the caps above are what it set last). */
  adaptive: boolean;
}

/** Who asked for a move: the automatic scheduler (`auto`) or an operator (`manual`). */
export type MigrationOrigin = 'auto' | 'manual';

/** Bytes per second a node sent and received for migrations lately, and its cap (null: unlimited). */
export interface NodeBandwidth {
  inBytesPerSec: number;
  outBytesPerSec: number;
  capBytesPerSec: number | null;
}

/**
 * The seed's `get_migration_status`. The counts are rows of the migrations journal by status, which keeps every
 * task since the database was created (finished ones included), so `completed` and `failed` outlive restarts.
 * `progress` is bytes-based over the tasks that are or were to be moved: completed ones count whole, open ones
 * (pending, running, paused) by the bytes copied so far; failed and cancelled tasks moved nothing and are left out.
 * Bandwidth per node is the agents' own figure of the bytes on the wire over their last `windowSec` seconds, where
 * they report one; else the bytes of the batches the engine finished in that window (see bandwidthPerNode).
 */
export interface MigrationStatusReport {
  total: number;
  pending: number;
  running: number;
  paused: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** 0 to 1; 1 when there is nothing to move. */
  progress: number;
  bytesTotal: number;
  bytesDone: number;
  rateBytesPerSec: number;
  bandwidthPerNode: Record<string, NodeBandwidth>;
  windowSec: number;
  /** All migrations paused by an operator. */
  queuePaused: boolean;
}

export interface RecoveryReport {
  rolledBack: number;
  rolledForward: number;
  requeued: number;
}

/**
 * Points of a batch, in order, where the crash-safety tests stop the engine dead (their hook never returns), as a
 * SIGKILL would: `copying` journaled before the pull; `pulled` the target holds the copies, journal still copying;
 * `copied` journaled; `committed` file rows moved; `published` znodes written; `removed` source copies deleted,
 * journal not yet cleaned.
 */
export type BatchPoint = 'copying' | 'pulled' | 'copied' | 'committed' | 'published' | 'removed';
