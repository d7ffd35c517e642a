import { and, asc, eq, gte, lt } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { ensembleLoadSamples, ensembleSettings, type EnsembleLoadSampleRow } from '../schema.ts';
import { clampLimit, nowIso } from './util.ts';

export type EnsembleLoadSampleRecord = EnsembleLoadSampleRow;

/** One minute of every server (and the ensemble, node ''), in one transaction. */
export function insertEnsembleLoadSamples(db: Db, rows: readonly Omit<EnsembleLoadSampleRow, 'id'>[]): void {
  if (rows.length === 0) return;
  db.transaction((tx) => {
    for (const row of rows) tx.insert(ensembleLoadSamples).values(row).run();
  });
}

/** Rows at or after `since` (ISO), of one node ('' for the ensemble) or all, oldest first, at most `limit`. */
export function listEnsembleLoadSamples(db: Db, opts: { since?: string; node?: string; limit?: number } = {}): EnsembleLoadSampleRecord[] {
  return db
    .select()
    .from(ensembleLoadSamples)
    .where(
      and(
        opts.since ? gte(ensembleLoadSamples.at, opts.since) : undefined,
        opts.node !== undefined ? eq(ensembleLoadSamples.node, opts.node) : undefined,
      ),
    )
    .orderBy(asc(ensembleLoadSamples.at), asc(ensembleLoadSamples.id))
    .limit(clampLimit(opts.limit, 10_000, 100_000))
    .all();
}

/** Drops rows older than `before` (ISO); returns how many went. */
export function pruneEnsembleLoadSamples(db: Db, before: string): number {
  return db.delete(ensembleLoadSamples).where(lt(ensembleLoadSamples.at, before)).run().changes;
}

export function getEnsembleSetting<T extends Record<string, unknown>>(db: Db, key: string): T | null {
  const row = db.select().from(ensembleSettings).where(eq(ensembleSettings.key, key)).get();
  return row ? (row.value as T) : null;
}

export function setEnsembleSetting(db: Db, key: string, value: Record<string, unknown>): void {
  const updatedAt = nowIso();
  db.insert(ensembleSettings)
    .values({ key, value, updatedAt })
    .onConflictDoUpdate({ target: ensembleSettings.key, set: { value, updatedAt } })
    .run();
}
