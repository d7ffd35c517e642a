/** Display helpers shared by every page: sizes, times and durations in plain words. */

// Sizes and durations are written one way everywhere: the console uses core's helpers.
export { formatBytes, formatDuration } from '@zkha/core/format';

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "3 min ago", "just now": for "drained since". */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/**
 * A value out of a free-form record (operation details, task parameters) as text: primitives as they print,
 * objects and arrays as JSON rather than "[object Object]"; null and undefined as `empty`.
 */
export function formatValue(v: unknown, empty = ''): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'undefined':
      return empty;
    case 'object':
      return v === null ? empty : JSON.stringify(v);
    default:
      return String(v);
  }
}

export function formatNumber(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined) return '—';
  return `${n.toLocaleString()}${unit}`;
}

/** "zk1: 11, zk2: 1, zk3: 0" */
export function formatCounts(counts: Record<string, number> | null | undefined): string {
  if (!counts) return '—';
  return Object.entries(counts)
    .map(([node, n]) => `${node}: ${n}`)
    .join(', ');
}
