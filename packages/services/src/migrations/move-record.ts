import type { MigrationRecord } from '@zkha/db';

import type { OperationsService } from '../logs/operations.ts';

/** The nodes whose file counts a move operation shows: the storage nodes, and any node the moves touch. */
export function moveCountNodes(storageNodes: readonly string[], rows: readonly MigrationRecord[]): string[] {
  const nodes = new Set(storageNodes);
  for (const r of rows) nodes.add(r.source).add(r.target);
  return [...nodes];
}

/**
 * Every committed move is an operation, written at its commit point: `auto_migrate` when the automatic
 * scheduler asked for it, `migrate` when an operator did. A batch is one operation listing its moves (two if
 * it mixes both origins); `countsBefore` are the file counts just before the index moved these files.
 */
export function recordMoveOperations(
  operations: OperationsService,
  rows: readonly MigrationRecord[],
  countsBefore: Record<string, number>,
  transfer?: { bytesOnWire: number; linkedFiles: number },
): void {
  let before = countsBefore;
  for (const origin of ['auto', 'manual'] as const) {
    const group = rows.filter((r) => r.origin === origin);
    const first = group[0];
    if (!first) continue;
    const after = { ...before };
    for (const r of group) {
      after[r.source] = (after[r.source] ?? 0) - 1;
      after[r.target] = (after[r.target] ?? 0) + 1;
    }
    operations.record({
      action: origin === 'auto' ? 'auto_migrate' : 'migrate',
      node: first.source,
      status: 'success',
      details: {
        trigger: origin,
        count: group.length,
        moves: group.map((r) => ({ uuid: r.uuid, name: r.name, from: r.source, to: r.target, sizeBytes: r.bytes })),
        planId: first.planId,
        reason: first.reason,
        // The batch's (shared by both operations when it mixes origins); absent for moves recovery finished.
        ...(transfer ? { transfer } : {}),
      },
      beforeMetrics: { counts: before },
      afterMetrics: { counts: after },
    });
    before = after;
  }
}
