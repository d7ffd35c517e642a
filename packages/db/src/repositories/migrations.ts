import { and, desc, eq, inArray, ne } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { migrations, type MigrationRow, type NewMigrationRow } from '../schema.ts';

export type MigrationRecord = MigrationRow;

export function insertMigrations(db: Db, rows: readonly NewMigrationRow[]): MigrationRecord[] {
  if (rows.length === 0) return [];
  return db.transaction((tx) => rows.map((r) => tx.insert(migrations).values(r).returning().get()));
}

export function getMigration(db: Db, id: number): MigrationRecord | null {
  return db.select().from(migrations).where(eq(migrations.id, id)).get() ?? null;
}

export function updateMigration(db: Db, id: number, patch: Partial<Omit<MigrationRecord, 'id'>>): MigrationRecord {
  return db.update(migrations).set(patch).where(eq(migrations.id, id)).returning().get()!;
}

/** Not finished yet: what the queue still has to run, and what recovery must settle after a crash. */
export function listOpenMigrations(db: Db): MigrationRecord[] {
  return db
    .select()
    .from(migrations)
    .where(inArray(migrations.status, ['pending', 'running', 'paused']))
    .orderBy(migrations.id)
    .all();
}

/** Journal rows a crash may have left mid-way: phase past planned and before cleaned. */
export function listUnsettledMigrations(db: Db): MigrationRecord[] {
  return db
    .select()
    .from(migrations)
    .where(and(inArray(migrations.phase, ['copying', 'copied', 'committed']), ne(migrations.status, 'completed')))
    .orderBy(migrations.id)
    .all();
}

export function listMigrations(db: Db, opts: { status?: MigrationRecord['status']; planId?: string; limit?: number } = {}): MigrationRecord[] {
  const where = and(
    opts.status ? eq(migrations.status, opts.status) : undefined,
    opts.planId ? eq(migrations.planId, opts.planId) : undefined,
  );
  return db.select().from(migrations).where(where).orderBy(desc(migrations.id)).limit(Math.min(Math.max(opts.limit ?? 100, 1), 5000)).all();
}
