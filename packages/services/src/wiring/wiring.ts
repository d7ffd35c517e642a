import type { Db } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';

import type { InstanceLifecycle } from '../control-plane/lifecycle.ts';
import { FileIndex } from '../files/file-index.ts';
import { FileMetadataRegistry } from '../files/file-metadata.ts';
import type { LivenessMonitor } from '../liveness/store-liveness.ts';
import { OperationsService } from '../logs/operations.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import { SharedMigrationJournal } from '../migrations/shared-journal.ts';
import type { SchedulerService } from '../scheduler/scheduler.ts';
import type { ServicesOptions } from '../services-options.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { AppEvents } from '../shared/event-bus.ts';
import type { Metrics } from '../shared/metrics.ts';

/**
 * Services built after the ones that call them, reached through these getters. As when every service was a `const`
 * of one function, a getter called before its service is built throws; `metrics` alone may be absent (undefined).
 */
export interface LateBound {
  control: () => InstanceLifecycle['control'];
  leaderLoops: () => InstanceLifecycle['leaderLoops'];
  metrics: () => Metrics | undefined;
  scheduler: () => SchedulerService;
  engine: () => MigrationEngine;
  liveness: () => LivenessMonitor | null;
}

/** What every wiring step reads: the options, the services every domain shares, and the late-bound ones. */
export interface Wiring {
  opts: ServicesOptions;
  clock: Clock;
  events: AppEvents;
  db: Db;
  storage: FileStoragePort;
  /** The ensemble's server names; a membership change rewrites it in place. */
  ensembleNodes: string[];
  metadata: FileMetadataRegistry;
  shared: SharedMigrationJournal | null;
  index: FileIndex;
  operations: OperationsService;
  late: LateBound;
}

/** The bus, the clock, the files' metadata (ZooKeeper) and index, the shared migration journal, and the audit. */
export function wireFoundation(opts: ServicesOptions, late: LateBound): Wiring {
  const clock = opts.clock ?? systemClock;
  const events = new AppEvents();
  const ensembleNodes = opts.members.map((m) => m.name);
  const { db, storage } = opts;
  // Under election, every metadata write is fenced by this instance's election znode (see ControlPlane.fence),
  // and the migration journal is shared through ZooKeeper so a new leader can finish what the last one started.
  const metadata = new FileMetadataRegistry(opts.session, opts.control ? () => late.control()?.fence() ?? null : undefined);
  const shared = opts.control ? new SharedMigrationJournal(opts.session, () => late.control()?.fence() ?? null) : null;
  const index = new FileIndex();
  const operations = new OperationsService(db, events);
  return { opts, clock, events, db, storage, ensembleNodes, metadata, shared, index, operations, late };
}
