import { desc, gte, lt } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { capacityRecommendations, capacitySamples, type CapacityRecommendationRow, type CapacitySampleRow } from '../schema.ts';
import { clampLimit } from './util.ts';

export type CapacitySampleRecord = CapacitySampleRow;
export type CapacityRecommendationRecord = CapacityRecommendationRow;

export function insertCapacitySample(db: Db, row: Omit<CapacitySampleRow, 'id'>): CapacitySampleRecord {
  return db.insert(capacitySamples).values(row).returning().get();
}

/** Samples at or after `since` (ISO), oldest first, at most `limit` (the newest ones when there are more). */
export function listCapacitySamples(db: Db, opts: { since?: string; limit?: number } = {}): CapacitySampleRecord[] {
  const limit = clampLimit(opts.limit, 1000, 10_000);
  const rows = db
    .select()
    .from(capacitySamples)
    .where(opts.since ? gte(capacitySamples.at, opts.since) : undefined)
    .orderBy(desc(capacitySamples.at), desc(capacitySamples.id))
    .limit(limit)
    .all();
  return rows.reverse();
}

/** Drops samples older than `before` (ISO); returns how many went. */
export function pruneCapacitySamples(db: Db, before: string): number {
  return db.delete(capacitySamples).where(lt(capacitySamples.at, before)).run().changes;
}

export function insertCapacityRecommendation(db: Db, row: Omit<CapacityRecommendationRow, 'id'>): CapacityRecommendationRecord {
  return db.insert(capacityRecommendations).values(row).returning().get();
}

/** Newest first. */
export function listCapacityRecommendations(db: Db, opts: { limit?: number } = {}): CapacityRecommendationRecord[] {
  return db
    .select()
    .from(capacityRecommendations)
    .orderBy(desc(capacityRecommendations.at), desc(capacityRecommendations.id))
    .limit(clampLimit(opts.limit, 50, 1000))
    .all();
}
