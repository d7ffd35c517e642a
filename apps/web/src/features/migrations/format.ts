/**
 * Durations and rates for the migrations view. They sit beside the shared helpers (lib/format.ts) rather than
 * in them because only this view shows ETAs; they build on its formatBytes so sizes read the same everywhere.
 */
import { formatBytes } from '../../lib/format.ts';

/** "850 ms", "42 s", "3 min 5 s", "2 h 10 min", "3.5 days"; "—" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${(h / 24).toFixed(1)} days`;
}

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
