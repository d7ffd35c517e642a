/**
 * The scheduler's figures in words: values, spreads and thresholds in the plan's unit, and labels for the
 * cluster reasons and per-node codes. Keyed by core's types, so a new reason or unit breaks the build here
 * instead of showing a raw code.
 */
import type { BalanceUnit, NodeReason, NodeRole, PlanReason } from '@zkha/core';

import { formatBytes } from '../../lib/format.ts';

function round1(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** A node's value: "12 files", "3.5 files/weight", "1.5 MiB", "42.0%"; "—" when it is not counted. */
export function formatValue(unit: BalanceUnit, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'files':
      return `${round1(value)} ${value === 1 ? 'file' : 'files'}`;
    case 'files_per_weight':
      return `${round1(value)} files/weight`;
    case 'bytes':
      return formatBytes(Math.round(value));
    case 'percent':
      return `${value.toFixed(1)}%`;
  }
}

/** A distance between two values (a spread, a threshold): percent reads as points. */
export function formatGap(unit: BalanceUnit, value: number | null | undefined): string {
  if (unit === 'percent' && value !== null && value !== undefined && Number.isFinite(value)) return `${value.toFixed(1)} pts`;
  return formatValue(unit, value);
}

export const UNIT_LABEL: Record<BalanceUnit, string> = {
  files: 'files',
  files_per_weight: 'files per weight',
  bytes: 'bytes',
  percent: '% of capacity',
};

/** The round as a whole, as the badge says it. */
export const PLAN_REASON_LABEL: Record<PlanReason, string> = {
  ok: 'moves planned',
  draining: 'emptying a drained node',
  below_threshold: 'below threshold',
  no_files: 'no files',
  no_target: 'no target',
  no_candidate: 'files already moving',
  watermark: 'held by the watermark',
  unreachable: 'no move narrows it',
};

export const ROLE_COLOR: Record<NodeRole, string> = { source: 'orange', target: 'teal', neither: 'gray' };

/** Per-node codes: short label and colour (the words come from the server). */
export const NODE_REASON_LABEL: Record<NodeReason, { label: string; color: string }> = {
  most_loaded: { label: 'most loaded', color: 'orange' },
  least_loaded: { label: 'least loaded', color: 'teal' },
  within_threshold: { label: 'within threshold', color: 'gray' },
  drained: { label: 'drained', color: 'orange' },
  weight_zero: { label: 'weight 0', color: 'orange' },
  offline: { label: 'offline', color: 'red' },
  no_capacity: { label: 'no capacity', color: 'yellow' },
  over_watermark: { label: 'over watermark', color: 'yellow' },
  all_in_flight: { label: 'all in flight', color: 'blue' },
  unreachable: { label: 'unreachable', color: 'yellow' },
  at_cap: { label: 'at cap', color: 'grape' },
  no_files: { label: 'no files', color: 'gray' },
};

/** "3 moves" / "1 move". */
export function formatMoves(n: number): string {
  return `${n.toLocaleString()} ${n === 1 ? 'move' : 'moves'}`;
}

/** The few fields of a round's result (scheduler.run, or the round a stress ran right after) its summary reads. */
export interface RunSummaryInput {
  mode: 'whole_plan' | 'one_per_tick';
  executed: boolean;
  queued: number;
  done: number;
  failed: number;
  pending: number;
  error: string | null;
  before: { candidate: { name: string } | null; sourceNode: string | null; targetNode: string | null };
  after: { message: string };
}

/** What a round did, in the words of the mode that ran it. */
export function runSummary(r: RunSummaryInput): string {
  if (r.error) return `the round failed: ${r.error}`;
  if (r.mode === 'one_per_tick') {
    return r.executed
      ? `moved ${r.before.candidate?.name ?? 'a file'}: ${r.before.sourceNode} → ${r.before.targetNode}`
      : `nothing moved: ${r.after.message}`;
  }
  if (r.queued === 0) return `nothing moved: ${r.after.message}`;
  return `queued ${formatMoves(r.queued)}: ${r.done} done, ${r.pending} pending${r.failed > 0 ? `, ${r.failed} failed` : ''}`;
}
