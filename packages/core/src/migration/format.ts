/**
 * Number formatting for the migration modules' messages. Every plan, admission and recommendation explains
 * itself in words an operator reads in the UI or a log line, so the numbers in those words must read the same
 * everywhere (binary units for bytes, one decimal at most).
 */

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB"; below 1 KiB the exact byte count. */
export function formatBytes(bytes: number): string {
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
  return `${sign}${value.toFixed(1)} ${unit}`;
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

/** A duration in the largest unit that keeps it readable: "850 ms", "42 s", "3.5 h", "12.3 days". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${formatNumber(s)} s`;
  const min = s / 60;
  if (min < 120) return `${formatNumber(min)} min`;
  const h = min / 60;
  if (h < 48) return `${formatNumber(h)} h`;
  return `${formatNumber(h / 24)} days`;
}

export const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
