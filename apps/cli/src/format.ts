/** Plain-text renderings shared by the commands. */
import { formatBytes } from '@zkha/core/format';

/** Sizes as everywhere in zkha (core's formatBytes), with the tables' "-" for none. */
export function bytes(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : formatBytes(n);
}

/** "2025-11-22T01:13:04.512Z" → "2025-11-22 01:13:04" (UTC, sortable, no noise). */
export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')
    .replace(/Z$/, '');
}

export function dash(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}

/** "zk1 11 · zk2 1 · zk3 0" */
export function counts(c: Record<string, number>): string {
  return Object.entries(c)
    .map(([node, n]) => `${node} ${n}`)
    .join(' · ');
}

/** The scalar fields of an operation's details as key=value, for one-line log output. */
export function details(d: Record<string, unknown> | null | undefined, max = 160): string {
  if (!d) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') continue;
    const s = String(v);
    parts.push(`${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`);
  }
  const line = parts.join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The unit of the scheduler's values, spreads and thresholds (core's BalanceUnit). */
export type BalanceUnit = 'files' | 'files_per_weight' | 'bytes' | 'percent';

function round1(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

/** A node's value in its unit: "12 files", "3.5 files/weight", "1.5 MiB", "42.0%"; "-" when not counted. */
export function inUnit(unit: BalanceUnit, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  switch (unit) {
    case 'files':
      return `${round1(v)} ${v === 1 ? 'file' : 'files'}`;
    case 'files_per_weight':
      return `${round1(v)} files/weight`;
    case 'bytes':
      return bytes(Math.round(v));
    case 'percent':
      return `${v.toFixed(1)}%`;
  }
}

/** A spread or a threshold: as a value, except percent, which reads as points. */
export function gapInUnit(unit: BalanceUnit, v: number | null | undefined): string {
  return unit === 'percent' && typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)} pts` : inUnit(unit, v);
}

/** "zk1 12 → 4 · zk2 0 → 4": the nodes whose count changed (every node when none did). */
export function countsChange(before: Record<string, number>, after: Record<string, number>): string {
  const nodes = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = nodes.filter((n) => (before[n] ?? 0) !== (after[n] ?? 0));
  return (changed.length > 0 ? changed : nodes).map((n) => `${n} ${before[n] ?? 0} → ${after[n] ?? 0}`).join(' · ');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
