/** Rates and fractions for the migrations view, built on the shared formatBytes so sizes read the same everywhere. */
import { formatBytes } from '../../lib/format.ts';

/** "1.5 MiB/s"; "—" when nothing was measured. */
export function formatRate(bytesPerSec: number | null | undefined): string {
  if (bytesPerSec === null || bytesPerSec === undefined || !Number.isFinite(bytesPerSec) || bytesPerSec <= 0) return '—';
  return `${formatBytes(Math.round(bytesPerSec))}/s`;
}

/** A 0–1 fraction as "42.5%"; "—" when unknown (capacity not reported). */
export function formatFraction(f: number | null | undefined): string {
  if (f === null || f === undefined || !Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(1)}%`;
}

/** Percent done of a total, 0-100, for a progress bar (0 when the total is unknown). */
export function pct(done: number, total: number): number {
  return total > 0 ? Math.min(100, (done / total) * 100) : 0;
}
