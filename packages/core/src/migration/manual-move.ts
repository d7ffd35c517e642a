/**
 * An operator's own move: one chosen file to one chosen node (the seed's "migrate a file" button and its
 * `add_migration_task`). The planner never proposes a move that breaks these rules; a person can, so every
 * rule is checked here, once, for every entry point (tRPC, REST, SDK, CLI, console), and a refusal says which
 * rule and the numbers behind it. Pure: the caller gathers the facts.
 */
import { AppError } from '../errors.ts';
import { formatBytes, formatNumber } from '../format.ts';
import type { PlannedMove } from '../scheduler/planner.ts';

export interface ManualMoveFacts {
  uuid: string;
  target: string;
  /** The node the caller expects the file on (`add_migration_task`); a file found elsewhere makes the task stale. */
  source?: string;
  /** The file as the database has it, or null when no file has this uuid. */
  file: { name: string; node: string; sizeBytes: number } | null;
  /** Nodes files may be placed on (active and leaving storage nodes). */
  nodes: readonly string[];
  drained: ReadonlySet<string>;
  /** Nodes whose liveness says OFFLINE. */
  offline: readonly string[];
  /** The file's open (pending, running or paused) migration, if it has one. */
  openMigration: { id: number; status: string; source: string; target: string } | null;
  /** Bytes the target holds plus bytes already queued or running toward it. */
  targetBytes: number;
  /** The target's capacity, or null when unknown (then no watermark applies). */
  targetCapacityBytes: number | null;
  /** Share of a node's capacity no move may fill past (SCHEDULER_HIGH_WATERMARK), in (0, 1]. */
  highWatermark: number;
}

/** What gets queued: a planned move like the scheduler's. */
export type ManualMove = PlannedMove;

function unknownNode(node: string, nodes: readonly string[], role: string): AppError {
  return new AppError('NODE_NOT_FOUND', `unknown ${role} node "${node}": expected one of ${nodes.join(', ')}`, { node, nodes: [...nodes] });
}

/**
 * The move, or the first rule it breaks as an AppError: NODE_NOT_FOUND (target or source unknown),
 * FILE_NOT_FOUND, and CONFLICT when the file is not on `source` (stale task), is already on the target, is
 * already moving (the migration is named), or the target is drained, offline, or would pass its high watermark.
 */
export function checkManualMove(f: ManualMoveFacts): ManualMove {
  if (!f.nodes.includes(f.target)) throw unknownNode(f.target, f.nodes, 'target');
  if (f.source !== undefined && !f.nodes.includes(f.source)) throw unknownNode(f.source, f.nodes, 'source');
  const file = f.file;
  if (!file) throw new AppError('FILE_NOT_FOUND', `no file with uuid ${f.uuid}`, { uuid: f.uuid });
  const details = { uuid: f.uuid, name: file.name, node: file.node, target: f.target };
  if (f.source !== undefined && file.node !== f.source) {
    throw new AppError(
      'CONFLICT',
      `${file.name} is on ${file.node}, not on ${f.source}: the task is stale, add it again from ${file.node}`,
      { ...details, source: f.source },
    );
  }
  if (file.node === f.target) throw new AppError('CONFLICT', `${file.name} is already on ${f.target}`, details);
  const m = f.openMigration;
  if (m) {
    throw new AppError(
      'CONFLICT',
      `${file.name} is already moving: migration ${m.id} (${m.status}, ${m.source} → ${m.target}); cancel it first to move the file elsewhere`,
      {
        ...details,
        migration: m.id,
      },
    );
  }
  if (f.drained.has(f.target)) throw new AppError('CONFLICT', `${f.target} is drained: it takes no files until it is undrained`, details);
  if (f.offline.includes(f.target))
    throw new AppError('CONFLICT', `${f.target} is offline (its storage agent is gone): it cannot take files until it is back`, details);
  const cap = f.targetCapacityBytes;
  if (cap !== null) {
    const limit = f.highWatermark * cap;
    const after = f.targetBytes + file.sizeBytes;
    if (after > limit) {
      throw new AppError(
        'CONFLICT',
        `${f.target} would hold ${formatBytes(after)} with ${file.name}, past its ${formatNumber(f.highWatermark * 100)}% high watermark (${formatBytes(limit)} of ${formatBytes(cap)})`,
        { ...details, bytesAfter: after, limitBytes: limit, capacityBytes: cap },
      );
    }
  }
  return {
    uuid: f.uuid,
    name: file.name,
    from: file.node,
    to: f.target,
    sizeBytes: file.sizeBytes,
    reason: `requested by an operator: ${file.name} from ${file.node} to ${f.target}`,
  };
}
