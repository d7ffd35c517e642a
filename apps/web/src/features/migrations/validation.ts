import { ZMigrationCapsPatchSchema, ZMigrationPlanInputSchema } from '@zkha/core/schemas';

import { formatBytes } from '../../lib/format.ts';

export type CapsPatch = ReturnType<typeof ZMigrationCapsPatchSchema.parse>;
export type EnqueueInput = ReturnType<typeof ZMigrationPlanInputSchema.parse>;
export type StrategyName = NonNullable<EnqueueInput['strategy']>;

export interface CapsValues {
  maxConcurrent: number;
  maxPerNodeOut: number;
  maxPerNodeIn: number;
  bandwidthBytesPerSec: number | null;
}

export const BANDWIDTH_UNITS = { 'KiB/s': 1024, 'MiB/s': 1024 * 1024 } as const;
export type BandwidthUnit = keyof typeof BANDWIDTH_UNITS;

export const COUNT_FIELDS = ['maxConcurrent', 'maxPerNodeOut', 'maxPerNodeIn'] as const;
export type CapsField = (typeof COUNT_FIELDS)[number] | 'bandwidth';

export interface CapsDraft {
  maxConcurrent: number | string;
  maxPerNodeOut: number | string;
  maxPerNodeIn: number | string;
  /** No bandwidth cap (null on the wire). */
  unlimited: boolean;
  bandwidth: number | string;
  unit: BandwidthUnit;
}
export type CapsErrors = Partial<Record<CapsField, string>>;

/** The form's view of the caps: bandwidth in MiB/s when it is a round number of them (tenths), else KiB/s. */
export function draftFromCaps(caps: CapsValues): CapsDraft {
  const bw = caps.bandwidthBytesPerSec;
  const unit: BandwidthUnit =
    bw !== null && bw >= BANDWIDTH_UNITS['MiB/s'] && (bw * 10) % BANDWIDTH_UNITS['MiB/s'] === 0 ? 'MiB/s' : 'KiB/s';
  return {
    maxConcurrent: caps.maxConcurrent,
    maxPerNodeOut: caps.maxPerNodeOut,
    maxPerNodeIn: caps.maxPerNodeIn,
    unlimited: bw === null,
    bandwidth: bw === null ? '' : Math.round((bw / BANDWIDTH_UNITS[unit]) * 100) / 100,
    unit,
  };
}

interface Issue {
  code: string;
  message: string;
  minimum?: unknown;
  maximum?: unknown;
  expected?: unknown;
}

/** zod's default wording in the form's words; bandwidth bounds in the units the operator typed. */
function plainIssue(issue: Issue, field: CapsField | 'priority'): string {
  const bound = (v: unknown) => (field === 'bandwidth' ? `${formatBytes(Number(v))}/s` : String(v));
  if (issue.code === 'too_small' && issue.minimum !== undefined) return `must be at least ${bound(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.maximum !== undefined) return `must be at most ${bound(issue.maximum)}`;
  if (issue.code === 'invalid_type' && issue.expected === 'int') return 'must be a whole number';
  if (issue.code === 'invalid_type') return 'enter a number';
  return issue.message;
}

/**
 * Checks the caps form with the server's own schema (ZMigrationCapsPatchSchema) before any request. Only the
 * fields that differ from `current` are sent: the caps can change under the form (adaptive mode, another tab)
 * and an untouched field must not put an old value back.
 */
export function validateCaps(draft: CapsDraft, current: CapsValues): { ok: true; patch: CapsPatch } | { ok: false; errors: CapsErrors } {
  const errors: CapsErrors = {};
  const patch: Record<string, number | null> = {};
  for (const f of COUNT_FIELDS) {
    const v = draft[f];
    if (v === '' || !Number.isFinite(Number(v))) errors[f] = 'enter a number';
    else if (Number(v) !== current[f]) patch[f] = Number(v);
  }
  let bandwidth: number | null = null;
  if (!draft.unlimited) {
    const v = draft.bandwidth;
    if (v === '' || !Number.isFinite(Number(v))) errors.bandwidth = 'enter a rate, or choose unlimited';
    else bandwidth = Math.round(Number(v) * BANDWIDTH_UNITS[draft.unit]);
  }
  if (errors.bandwidth === undefined && bandwidth !== current.bandwidthBytesPerSec) patch.bandwidthBytesPerSec = bandwidth;
  const parsed = ZMigrationCapsPatchSchema.safeParse(patch);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = i.path[0];
      const field: CapsField | null = key === 'bandwidthBytesPerSec' ? 'bandwidth' : (COUNT_FIELDS.find((f) => f === key) ?? null);
      if (field) errors[field] ??= plainIssue(i, field);
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, patch: parsed.data };
}

export interface EnqueueDraft {
  strategy: StrategyName;
  priority: number | string;
  /** The value of a datetime-local input ("2025-01-31T14:30", local time), or '' for none. */
  deadline: string;
}
export type EnqueueErrors = Partial<Record<'priority' | 'deadline', string>>;

/** Checks "queue this plan" with ZMigrationPlanInputSchema; a deadline must name a moment still ahead. */
export function validateEnqueue(
  draft: EnqueueDraft,
  now: number,
): { ok: true; input: EnqueueInput } | { ok: false; errors: EnqueueErrors } {
  const errors: EnqueueErrors = {};
  if (draft.priority === '' || !Number.isFinite(Number(draft.priority))) errors.priority = 'enter a number from 1 to 10';
  let deadline: string | null = null;
  if (draft.deadline !== '') {
    const t = new Date(draft.deadline).getTime();
    if (Number.isNaN(t)) errors.deadline = 'enter a date and time';
    else if (t <= now) errors.deadline = 'must be in the future';
    else deadline = new Date(t).toISOString();
  }
  const parsed = ZMigrationPlanInputSchema.safeParse({ strategy: draft.strategy, priority: Number(draft.priority), deadline });
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = i.path[0];
      if (key === 'priority') errors.priority ??= plainIssue(i, 'priority');
      if (key === 'deadline') errors.deadline ??= i.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, input: parsed.data };
}
