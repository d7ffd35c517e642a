import { fileURLToPath } from 'node:url';

/** Defined as true by scripts/bundle.mjs in the bundles `npm start` and the image run; undeclared in the sources. */
declare const ZKHA_BUNDLED: boolean | undefined;

/** Whether this code runs from a bundle (dist/*.mjs) rather than from its TypeScript source under tsx. */
const RUNS_BUNDLED = typeof ZKHA_BUNDLED !== 'undefined' && ZKHA_BUNDLED;

/**
 * The node arguments that start another process entry (`source`, a .ts file, or `bundle`, its dist/*.mjs): the
 * bundle when this code runs bundled, the source under tsx when it runs from sources (tests, development), so a
 * source run never starts a stale bundle and a bundled run never needs tsx.
 */
export function entryArgs(entry: { source: URL; bundle: URL }): string[] {
  return RUNS_BUNDLED ? [fileURLToPath(entry.bundle)] : ['--import', import.meta.resolve('tsx'), fileURLToPath(entry.source)];
}
