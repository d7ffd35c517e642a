/**
 * The one way zkha writes sizes, counts and durations: in the domain's messages (plans, admissions,
 * recommendations), the console and the CLI alike, so a figure reads the same wherever an operator meets it
 * (binary units for bytes, one decimal at most). Free of Node imports: the console imports it
 * (`@zkha/core/format`).
 */

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB", 262144 → "256 KiB"; below 1 KiB the exact byte count; "—" when there is none. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || Number.isNaN(bytes)) return '—';
  if (!Number.isFinite(bytes)) return bytes > 0 ? 'unlimited' : String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${formatNumber(value)} B`;
  let unit: string = 'B';
  for (const u of BYTE_UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  // One decimal below 100 of a unit ("1.5 KiB", "3.0 TiB"), whole above ("256 KiB"): never more than 3 digits + 1.
  return `${sign}${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

/** Whole numbers as they are, anything else with one decimal: 12 → "12", 333.333 → "333.3". */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const rounded = Math.round(value * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

/** A fraction as a percentage with one decimal: 0.8512 → "85.1%". */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/**
 * A duration as a person says it: "850 ms", "1.5 s", "42 s", "3 min 5 s", "2 h 10 min", "3.5 days"; "never" for
 * an infinite one, "—" when there is none (null, NaN or negative).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return '—';
  if (!Number.isFinite(ms)) return 'never';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${formatNumber(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${formatNumber(ms / 86_400_000)} days`;
}

export const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
