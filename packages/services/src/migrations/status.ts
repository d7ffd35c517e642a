import type { countMigrationsByStatus, MigrationRecord } from '@zkha/db';

import type { MigrationProgress, MigrationStatusReport, NodeBandwidth } from './reports.ts';
import { BANDWIDTH_WINDOW_MS } from './transfer-meter.ts';

/**
 * The seed's `get_migration_status` (see MigrationStatusReport for what each figure counts): the journal's counts by
 * status, with the open tasks' bytes from the engine's progress, its bandwidth per node and its operator's pause.
 */
export function statusReport(
  totals: ReturnType<typeof countMigrationsByStatus>,
  p: MigrationProgress,
  bandwidthPerNode: Record<string, NodeBandwidth>,
  queuePaused: boolean,
): MigrationStatusReport {
  // Open tasks from memory: their bytes copied so far live there, not in the journal.
  const openBytes = p.tasks.reduce((a, t) => a + t.bytes, 0);
  const openDone = p.tasks.reduce((a, t) => a + t.bytesDone, 0);
  const bytesTotal = totals.completed.bytes + openBytes;
  const bytesDone = totals.completed.bytes + openDone;
  const count = (s: MigrationRecord['status']) => totals[s].count;
  return {
    total: Object.values(totals).reduce((a, t) => a + t.count, 0),
    pending: count('pending'),
    running: count('running'),
    paused: count('paused'),
    completed: count('completed'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    progress: bytesTotal > 0 ? Math.min(1, bytesDone / bytesTotal) : 1,
    bytesTotal,
    bytesDone,
    rateBytesPerSec: p.totals.rateBytesPerSec,
    bandwidthPerNode,
    windowSec: BANDWIDTH_WINDOW_MS / 1000,
    queuePaused,
  };
}
