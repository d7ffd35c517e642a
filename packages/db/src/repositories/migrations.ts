import { and, desc, eq, inArray, ne, sql } from 'drizzle-orm';

import type { FileHistoryEntry, FileRecord } from '@zkha/core';

import type { Db } from '../client.ts';
import { files, MIGRATION_STATUSES, migrations, type MigrationRow, type NewMigrationRow } from '../schema.ts';

export type MigrationRecord = MigrationRow;
export type MigrationPatch = Partial<Omit<MigrationRecord, 'id'>>;

/** The journal's hot statements, prepared once per database: a plan of thousands of moves runs them hundreds of times. */
function prepareStatements(db: Db) {
  const ids = sql`${migrations.id} in (select value from json_each(${sql.placeholder('ids')}))`;
  return {
    insert: db
      .insert(migrations)
      .values({
        planId: sql.placeholder('planId'),
        uuid: sql.placeholder('uuid'),
        name: sql.placeholder('name'),
        source: sql.placeholder('source'),
        target: sql.placeholder('target'),
        bytes: sql.placeholder('bytes'),
        sha256: sql.placeholder('sha256'),
        sourcePath: sql.placeholder('sourcePath'),
        targetPath: sql.placeholder('targetPath'),
        tempPath: sql.placeholder('tempPath'),
        priority: sql.placeholder('priority'),
        deadline: sql.placeholder('deadline'),
        status: sql.placeholder('status'),
        phase: sql.placeholder('phase'),
        reason: sql.placeholder('reason'),
        createdAt: sql.placeholder('createdAt'),
        origin: sql.placeholder('origin'),
      })
      .prepare(),
    start: db
      .update(migrations)
      .set({ status: 'running', phase: 'copying', startedAt: sql`${sql.placeholder('at')}`, error: null })
      .where(ids)
      .prepare(),
    copied: db
      .update(migrations)
      .set({ phase: 'copied', bytesDone: sql`${migrations.bytes}` })
      .where(ids)
      .prepare(),
    committed: db.update(migrations).set({ phase: 'committed' }).where(ids).prepare(),
    complete: db
      .update(migrations)
      .set({
        status: 'completed',
        phase: 'cleaned',
        finishedAt: sql`${sql.placeholder('at')}`,
        error: null,
        throughput: sql`coalesce(cast(round(${migrations.bytes} / ${sql.placeholder('seconds')}) as integer), ${migrations.throughput})`,
      })
      .where(ids)
      .prepare(),
    moveFile: db
      .update(files)
      .set({
        node: sql`${sql.placeholder('node')}`,
        path: sql`${sql.placeholder('path')}`,
        updatedAt: sql`${sql.placeholder('at')}`,
        history: sql`json_insert(coalesce(${files.history}, '[]'), '$[#]', json(${sql.placeholder('entry')}))`,
      })
      .where(and(eq(files.uuid, sql.placeholder('uuid')), eq(files.path, sql.placeholder('sourcePath'))))
      .prepare(),
    filesByUuid: db
      .select()
      .from(files)
      .where(sql`${files.uuid} in (select value from json_each(${sql.placeholder('uuids')}))`)
      .prepare(),
  };
}

const prepared = new WeakMap<Db, ReturnType<typeof prepareStatements>>();
function statements(db: Db): ReturnType<typeof prepareStatements> {
  let s = prepared.get(db);
  if (!s) {
    s = prepareStatements(db);
    prepared.set(db, s);
  }
  return s;
}

/**
 * Inserts a plan's journal rows in one transaction and returns them as stored. The rows are built here from
 * what was inserted (every column is listed, so a new column fails to compile rather than go missing):
 * reading thousands of rows back through RETURNING costs more than the inserts themselves.
 */
export function insertMigrations(db: Db, rows: readonly NewMigrationRow[]): MigrationRecord[] {
  if (rows.length === 0) return [];
  const { insert } = statements(db);
  return db.transaction(() =>
    rows.map((r): MigrationRecord => {
      const values = { priority: 5, deadline: null, reason: null, origin: 'manual' as const, ...r };
      const id = Number(insert.run(values).lastInsertRowid);
      return {
        id,
        planId: values.planId,
        uuid: values.uuid,
        name: values.name,
        source: values.source,
        target: values.target,
        bytes: values.bytes,
        sha256: values.sha256,
        sourcePath: values.sourcePath,
        targetPath: values.targetPath,
        tempPath: values.tempPath,
        priority: values.priority,
        deadline: values.deadline,
        status: values.status,
        phase: values.phase,
        bytesDone: values.bytesDone ?? 0,
        throughput: values.throughput ?? null,
        reason: values.reason,
        error: values.error ?? null,
        createdAt: values.createdAt,
        startedAt: values.startedAt ?? null,
        finishedAt: values.finishedAt ?? null,
        origin: values.origin,
      };
    }),
  );
}

export function getMigration(db: Db, id: number): MigrationRecord | null {
  return db.select().from(migrations).where(eq(migrations.id, id)).get() ?? null;
}

export function updateMigration(db: Db, id: number, patch: MigrationPatch): MigrationRecord {
  return db.update(migrations).set(patch).where(eq(migrations.id, id)).returning().get();
}

/** One journal change for many rows in one statement: a batch of moves passes each phase together. */
export function updateMigrations(db: Db, ids: readonly number[], patch: MigrationPatch): void {
  // SQLite allows 32,766 bound variables; batches stay far below, but chunk anyway so no caller has to care.
  for (let i = 0; i < ids.length; i += 10_000)
    db.update(migrations)
      .set(patch)
      .where(inArray(migrations.id, ids.slice(i, i + 10_000)))
      .run();
}

/** A batch of moves starts: journal `running` / `copying` before anything on disk is touched. */
export function startMigrations(db: Db, ids: readonly number[], startedAt: string): void {
  if (ids.length > 0) statements(db).start.run({ ids: JSON.stringify(ids), at: startedAt });
}

/** The bytes of these moves are in place under the target name: journal phase `copied`, all bytes done. */
export function markMigrationsCopied(db: Db, ids: readonly number[]): void {
  if (ids.length > 0) statements(db).copied.run({ ids: JSON.stringify(ids) });
}

/**
 * These moves are done (`completed`, `cleaned`). With `seconds`, each row's throughput is its bytes over that
 * wall time (a batch of moves shares one clock).
 */
export function completeMigrations(db: Db, ids: readonly number[], finishedAt: string, seconds?: number): void {
  if (ids.length > 0)
    statements(db).complete.run({
      ids: JSON.stringify(ids),
      at: finishedAt,
      seconds: seconds === undefined ? null : Math.max(seconds, 1e-3),
    });
}

/** Which of these paths a file row names: a name on disk that belongs to a file must never be removed. */
export function pathsOfFiles(db: Db, paths: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < paths.length; i += 500) {
    for (const r of db
      .select({ path: files.path })
      .from(files)
      .where(inArray(files.path, paths.slice(i, i + 500)))
      .all())
      out.add(r.path);
  }
  return out;
}

/** What a move needs to know of its file: where it is now and what its bytes hash to. */
export interface MigrationSource {
  uuid: string;
  name: string;
  node: string;
  path: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * The current placement of many files at once (missing files are absent), for queueing a plan. The rows come
 * back shaped by SQLite (column aliases): mapping thousands of rows in JavaScript cost more than the query.
 */
export function getMigrationSources(db: Db, uuids: readonly string[]): Map<string, MigrationSource> {
  const out = new Map<string, MigrationSource>();
  for (let i = 0; i < uuids.length; i += 5000) {
    const rows = db.all<MigrationSource>(sql`
      select ${files.uuid} as "uuid", ${files.name} as "name", ${files.node} as "node", ${files.path} as "path",
        ${files.sizeBytes} as "sizeBytes", ${files.sha256} as "sha256"
      from ${files} where ${files.uuid} in (select value from json_each(${JSON.stringify(uuids.slice(i, i + 5000))}))`);
    for (const r of rows) out.set(r.uuid, r);
  }
  return out;
}

export interface CommitMove {
  id: number;
  uuid: string;
  sourcePath: string;
  target: string;
  targetPath: string;
  historyEntry: FileHistoryEntry;
}

/**
 * The commit point of a batch of moves, in one transaction: each file row moves to its target (only if it
 * still sits at the source path the journal names: a file deleted or moved meanwhile is left alone and
 * reported in `missing`), and the journal rows of the moved files say `committed`.
 */
export function commitMigrations(
  db: Db,
  moves: readonly CommitMove[],
  at: string,
): { committed: Map<number, FileRecord>; missing: number[] } {
  const committed = new Map<number, FileRecord>();
  const missing: number[] = [];
  if (moves.length === 0) return { committed, missing };
  const st = statements(db);
  // The statements prepared on `db` run inside this transaction: one connection, one transaction at a time.
  // The moved rows are read back in one query: RETURNING on each UPDATE was measured ~1.5x slower.
  db.transaction(() => {
    const moved = new Map<string, number>();
    for (const m of moves) {
      const { changes } = st.moveFile.run({
        node: m.target,
        path: m.targetPath,
        at,
        entry: JSON.stringify(m.historyEntry),
        uuid: m.uuid,
        sourcePath: m.sourcePath,
      });
      if (changes === 0) missing.push(m.id);
      else moved.set(m.uuid, m.id);
    }
    if (moved.size === 0) return;
    for (const row of st.filesByUuid.all({ uuids: JSON.stringify([...moved.keys()]) })) {
      committed.set(moved.get(row.uuid)!, { ...row, history: Array.isArray(row.history) ? row.history : [] });
    }
    st.committed.run({ ids: JSON.stringify([...moved.values()]) });
  });
  return { committed, missing };
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

export function listMigrations(
  db: Db,
  opts: { status?: MigrationRecord['status']; planId?: string; limit?: number } = {},
): MigrationRecord[] {
  const where = and(
    opts.status ? eq(migrations.status, opts.status) : undefined,
    opts.planId ? eq(migrations.planId, opts.planId) : undefined,
  );
  return db
    .select()
    .from(migrations)
    .where(where)
    .orderBy(desc(migrations.id))
    .limit(Math.min(Math.max(opts.limit ?? 100, 1), 5000))
    .all();
}

/** Rows, bytes and bytes done per status, over the whole journal. */
export type MigrationTotals = Record<MigrationRecord['status'], { count: number; bytes: number; bytesDone: number }>;

/**
 * Counts the journal by status in one query: every task queued since the database was created, as the journal
 * keeps finished tasks (the seed's `get_migration_status` counts the controller's tasks the same way).
 */
export function countMigrationsByStatus(db: Db): MigrationTotals {
  const out = Object.fromEntries(MIGRATION_STATUSES.map((s) => [s, { count: 0, bytes: 0, bytesDone: 0 }])) as MigrationTotals;
  const rows = db
    .select({
      status: migrations.status,
      count: sql<number>`count(*)`,
      bytes: sql<number>`coalesce(sum(${migrations.bytes}), 0)`,
      bytesDone: sql<number>`coalesce(sum(${migrations.bytesDone}), 0)`,
    })
    .from(migrations)
    .groupBy(migrations.status)
    .all();
  for (const r of rows) out[r.status] = { count: Number(r.count), bytes: Number(r.bytes), bytesDone: Number(r.bytesDone) };
  return out;
}

/** How many tasks of one plan are in each status (a plan can hold 100,000 tasks: counted in SQL, not listed). */
export function countPlanStatuses(db: Db, planId: string): Partial<Record<MigrationRecord['status'], number>> {
  const rows = db
    .select({ status: migrations.status, n: sql<number>`count(*)` })
    .from(migrations)
    .where(eq(migrations.planId, planId))
    .groupBy(migrations.status)
    .all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
