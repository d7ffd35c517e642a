/** Move operations (one per batch) in words, for the operations log. */
import { formatValue } from '../../lib/format.ts';
import type { OperationRecord } from './hooks.ts';

interface MoveDetail {
  name?: unknown;
  from?: unknown;
  to?: unknown;
}

/**
 * A batch of moves (`auto_migrate` by the scheduler, `migrate` by an operator): one move reads as before
 * ("a.bin: zk1 → zk2"), several as "8 moves: zk1 → zk2 ×5, zk1 → zk3 ×3". Records written before batches
 * (file/from/to/delta) still read as they did.
 */
export function summarizeMoves(d: Record<string, unknown>): string {
  const s = (v: unknown) => formatValue(v);
  const moves = Array.isArray(d.moves) ? (d.moves as MoveDetail[]) : null;
  if (!moves)
    return `${s(d.file)}: ${s(d.from)} → ${s(d.to)} (delta ${s(d.delta)}, threshold ${s(d.threshold)}${d.error ? `, error: ${s(d.error)}` : ''})`;
  const count = typeof d.count === 'number' ? d.count : moves.length;
  const error = d.error ? ` — error: ${s(d.error)}` : '';
  if (count === 1 && moves[0])
    return `${s(moves[0].name)}: ${s(moves[0].from)} → ${s(moves[0].to)}${d.reason ? ` (${s(d.reason)})` : ''}${error}`;
  const routes = new Map<string, number>();
  for (const m of moves) {
    const route = `${s(m.from)} → ${s(m.to)}`;
    routes.set(route, (routes.get(route) ?? 0) + 1);
  }
  const list = [...routes].map(([route, n]) => (n > 1 ? `${route} ×${n}` : route)).join(', ');
  return `${count} moves: ${list}${error}`;
}

/** How many moves a batch operation stands for; null for operations that are not moves. */
export function moveCount(op: Pick<OperationRecord, 'action' | 'details'>): number | null {
  if (op.action !== 'auto_migrate' && op.action !== 'migrate') return null;
  const d = op.details as Record<string, unknown>;
  if (typeof d.count === 'number') return d.count;
  return Array.isArray(d.moves) ? d.moves.length : 1;
}
