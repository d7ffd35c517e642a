import { formatBytes } from '../../lib/format.ts';

/** A load component's value in its unit as the API names it ('req/s', 'ms', '%', 'bytes'). */
export function formatLoadValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (unit === 'bytes') return formatBytes(value);
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return unit === '%' ? `${rounded} %` : `${rounded.toLocaleString()} ${unit}`;
}

/** 0-1 as a whole percentage ("37 %"), '—' when unknown. */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${Math.round(share * 100)} %`;
}

/** A 0-100 score with one decimal, '—' when unknown. */
export function formatScore(score: number | null | undefined): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return '—';
  return score.toFixed(1);
}

/** Traffic-light colour of a 0-100 load score against the scaling policy's thresholds (75/20 by default). */
export function scoreColor(score: number | null | undefined, up = 75, down = 20): string {
  if (score === null || score === undefined) return 'gray';
  if (score > up) return 'red';
  if (score >= (up + down) / 2) return 'yellow';
  return 'teal';
}
