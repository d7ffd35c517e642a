import type { MigrationProgress } from './reports.ts';

declare module '../shared/event-bus.ts' {
  interface AppEventMap {
    /** The queue's progress, at most ten times a second while it moves. */
    migrations: [MigrationProgress];
  }
}
