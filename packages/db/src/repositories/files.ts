import { and, asc, count, desc, eq, gt, lt, or, sql, type SQL } from 'drizzle-orm';
import { AppError, type FileHistoryEntry, type FileRecord, type PlanFile } from '@zkha/core';
import type { Db } from '../client.ts';
import { files, type FileRow, type NewFileRow } from '../schema.ts';
import { clampLimit, isUniqueViolation, nowIso } from './util.ts';

/** A new file: history defaults to empty and updatedAt to createdAt. */
export type NewFileRecord = Omit<FileRecord, 'history' | 'updatedAt'> & Partial<Pick<FileRecord, 'history' | 'updatedAt'>>;

/** Fields updateFile may change; identity (uuid) and birth (createdAt) are fixed. */
export type FilePatch = Partial<Omit<FileRecord, 'uuid' | 'createdAt'>>;

export interface ListFilesOptions {
  node?: string;
  /** Page size, 1..1000, default 50. */
  limit?: number;
  /** Rows to skip; ignored when `cursor` is given. */
  offset?: number;
  /** `nextCursor` of the previous page. Stable under concurrent inserts, unlike offset. */
  cursor?: string | null;
}

export interface FilePage {
  items: FileRecord[];
  /** Rows matching the filter, regardless of paging. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * The columns the scheduler planner needs (core's PlanFile): history reduced to its length and the
 * newest entry's action, null when the history is empty.
 */
export type FilePlanningRow = PlanFile;

export interface MoveFileRecordInput {
  node: string;
  path: string;
  historyEntry: FileHistoryEntry;
  updatedAt?: string;
}

// Newest first; uuid breaks ties so pages and planner input are deterministic when many files share a
// created_at (bulk uploads in the same millisecond).
const NEWEST_FIRST = [desc(files.createdAt), asc(files.uuid)] as const;

function toRecord(row: FileRow): FileRecord {
  return {
    uuid: row.uuid,
    name: row.name,
    node: row.node,
    path: row.path,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    history: Array.isArray(row.history) ? row.history : [],
  };
}

function toRow(rec: NewFileRecord): NewFileRow {
  return {
    uuid: rec.uuid,
    name: rec.name,
    node: rec.node,
    path: rec.path,
    sizeBytes: rec.sizeBytes,
    sha256: rec.sha256,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt ?? rec.createdAt,
    history: rec.history ?? [],
  };
}

function notFound(uuid: string): AppError {
  return new AppError('FILE_NOT_FOUND', `file ${uuid} not found`, { uuid });
}

function encodeCursor(row: { createdAt: string; uuid: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.uuid])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; uuid: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], uuid: value[1] };
    }
  } catch {
    // fall through to the coded error: a garbled cursor is the caller's mistake, not ours
  }
  throw new AppError('BAD_INPUT', 'invalid files cursor', { cursor });
}

/** Inserts one file row; a duplicate uuid is a CONFLICT. */
export function insertFile(db: Db, rec: NewFileRecord): FileRecord {
  try {
    return toRecord(db.insert(files).values(toRow(rec)).returning().get());
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', `file ${rec.uuid} already exists`, { uuid: rec.uuid });
    throw err;
  }
}

/** One row of `files` as named placeholders: the statements that write many rows prepare it once. */
const FILE_ROW = {
  uuid: sql.placeholder('uuid'),
  name: sql.placeholder('name'),
  node: sql.placeholder('node'),
  path: sql.placeholder('path'),
  sizeBytes: sql.placeholder('sizeBytes'),
  sha256: sql.placeholder('sha256'),
  createdAt: sql.placeholder('createdAt'),
  updatedAt: sql.placeholder('updatedAt'),
  history: sql.placeholder('history'),
};

/**
 * Inserts many rows in one transaction (all or nothing). One prepared statement is reused for every row:
 * building a Drizzle query per row costs more than SQLite's insert itself.
 */
export function insertFiles(db: Db, recs: readonly NewFileRecord[]): number {
  if (recs.length === 0) return 0;
  try {
    db.transaction((tx) => {
      const insert = tx.insert(files).values(FILE_ROW).prepare();
      for (const rec of recs) insert.run(toRow(rec));
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('CONFLICT', 'a file with one of these uuids already exists');
    throw err;
  }
  return recs.length;
}

export function getFile(db: Db, uuid: string): FileRecord | null {
  const row = db.select().from(files).where(eq(files.uuid, uuid)).get();
  return row ? toRecord(row) : null;
}

/** The file whose bytes live at `path`, if any (a check's second look before it adopts bytes as new). */
export function getFileByPath(db: Db, path: string): FileRecord | null {
  const row = db.select().from(files).where(eq(files.path, path)).get();
  return row ? toRecord(row) : null;
}

/** One page of files, newest first, optionally on one node. */
export function listFiles(db: Db, options: ListFilesOptions = {}): FilePage {
  const limit = clampLimit(options.limit, 50, 1000);
  const nodeFilter = options.node !== undefined ? eq(files.node, options.node) : undefined;
  let where: SQL | undefined = nodeFilter;
  let offset = 0;
  if (options.cursor) {
    const c = decodeCursor(options.cursor);
    where = and(nodeFilter, or(lt(files.createdAt, c.createdAt), and(eq(files.createdAt, c.createdAt), gt(files.uuid, c.uuid))));
  } else if (options.offset !== undefined && Number.isFinite(options.offset)) {
    offset = Math.max(0, Math.trunc(options.offset));
  }
  // One extra row tells whether another page exists without a second query.
  const rows = db
    .select()
    .from(files)
    .where(where)
    .orderBy(...NEWEST_FIRST)
    .limit(limit + 1)
    .offset(offset)
    .all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const total = db.select({ n: count() }).from(files).where(nodeFilter).get()?.n ?? 0;
  return {
    items: page.map(toRecord),
    total,
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

/** Every file with its full history, newest first. Prefer listFilesForPlanning on hot paths. */
export function listAllFiles(db: Db): FileRecord[] {
  return db
    .select()
    .from(files)
    .orderBy(...NEWEST_FIRST)
    .all()
    .map(toRecord);
}

/** Rows after this one in NEWEST_FIRST order (keyset paging: each page is one index range, whatever its depth). */
function after(c: { createdAt: string; uuid: string } | undefined): SQL | undefined {
  return c ? or(lt(files.createdAt, c.createdAt), and(eq(files.createdAt, c.createdAt), gt(files.uuid, c.uuid))) : undefined;
}

/**
 * Every file with its full history, newest first, `pageSize` records at a time: what listAllFiles returns, without
 * holding it all (100,000 records with their histories are ~60 MB of heap). A page is read when the previous one
 * has been consumed, so rows written meanwhile may or may not appear; none is seen twice.
 */
export function* pagesOfFiles(db: Db, pageSize = 1000): Generator<FileRecord[]> {
  let last: FileRow | undefined;
  for (;;) {
    const rows = db
      .select()
      .from(files)
      .where(after(last))
      .orderBy(...NEWEST_FIRST)
      .limit(pageSize)
      .all();
    if (rows.length > 0) yield rows.map(toRecord);
    if (rows.length < pageSize) return;
    last = rows.at(-1);
  }
}

/**
 * Every file as a lean row, newest first. SQLite computes the history length and last action itself, and
 * the rows come back already shaped (column aliases), so 100k files cost one index scan with no JSON
 * parsing or per-row mapping in JavaScript.
 */
export function listFilesForPlanning(db: Db): FilePlanningRow[] {
  return [...filesForPlanning(db)];
}

/**
 * listFilesForPlanning's rows one by one, read 5,000 at a time: a consumer that keeps each row (FileIndex) holds
 * the rows once, not once more in an array of 100,000 beside them.
 */
export function* filesForPlanning(db: Db, pageSize = 5000): Generator<FilePlanningRow> {
  let last: FilePlanningRow | undefined;
  for (;;) {
    const where = after(last);
    const rows = db.all<FilePlanningRow>(sql`
      select ${files.uuid} as "uuid", ${files.name} as "name", ${files.node} as "node",
        ${files.sizeBytes} as "sizeBytes", ${files.createdAt} as "createdAt",
        json_array_length(${files.history}) as "historyLength",
        json_extract(${files.history}, '$[#-1].action') as "lastAction"
      from ${files}
      ${where ? sql`where ${where}` : sql``}
      order by ${files.createdAt} desc, ${files.uuid} asc
      limit ${pageSize}`);
    yield* rows;
    if (rows.length < pageSize) return;
    last = rows.at(-1);
  }
}

export function countFiles(db: Db, node?: string): number {
  return (
    db
      .select({ n: count() })
      .from(files)
      .where(node !== undefined ? eq(files.node, node) : undefined)
      .get()?.n ?? 0
  );
}

/** File count per node; nodes without files are absent (callers merge with the configured node list). */
export function countFilesByNode(db: Db): Record<string, number> {
  const rows = db.select({ node: files.node, n: count() }).from(files).groupBy(files.node).all();
  const out: Record<string, number> = {};
  for (const row of rows) out[row.node] = row.n;
  return out;
}

/** Changes the given fields (updatedAt defaults to now). Throws FILE_NOT_FOUND. */
export function updateFile(db: Db, uuid: string, patch: FilePatch): FileRecord {
  const set: Partial<NewFileRow> = { updatedAt: patch.updatedAt ?? nowIso() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.node !== undefined) set.node = patch.node;
  if (patch.path !== undefined) set.path = patch.path;
  if (patch.sizeBytes !== undefined) set.sizeBytes = patch.sizeBytes;
  if (patch.sha256 !== undefined) set.sha256 = patch.sha256;
  if (patch.history !== undefined) set.history = patch.history;
  const row = db.update(files).set(set).where(eq(files.uuid, uuid)).returning().get();
  if (!row) throw notFound(uuid);
  return toRecord(row);
}

/**
 * Points the record at its new node and path and appends one history entry, in a single UPDATE so a
 * concurrent mover cannot lose an entry (no read-modify-write in JavaScript). Throws FILE_NOT_FOUND.
 */
export function moveFileRecord(db: Db, uuid: string, input: MoveFileRecordInput): FileRecord {
  const row = db
    .update(files)
    .set({
      node: input.node,
      path: input.path,
      updatedAt: input.updatedAt ?? nowIso(),
      history: sql`json_insert(coalesce(${files.history}, '[]'), '$[#]', json(${JSON.stringify(input.historyEntry)}))`,
    })
    .where(eq(files.uuid, uuid))
    .returning()
    .get();
  if (!row) throw notFound(uuid);
  return toRecord(row);
}

/** Removes the row; false when it did not exist. */
export function deleteFile(db: Db, uuid: string): boolean {
  return db.delete(files).where(eq(files.uuid, uuid)).run().changes > 0;
}

/** Uuids read per query by removeFilesExcept. */
const UUID_PAGE = 2000;

/**
 * Removes every file row whose uuid is not in `keep`, in one transaction; returns how many. The end of a projection
 * written in pages (projectFiles without replaceAll, page by page): what replaceAll does, without every record at once.
 * The uuids are read a page at a time too: 100,000 of them at once were ~15 MB of heap at the end of a full read.
 */
export function removeFilesExcept(db: Db, keep: ReadonlySet<string>): number {
  const gone: string[] = [];
  for (let last = ''; ;) {
    const page = db.select({ uuid: files.uuid }).from(files).where(gt(files.uuid, last)).orderBy(files.uuid).limit(UUID_PAGE).all();
    for (const { uuid } of page) if (!keep.has(uuid)) gone.push(uuid);
    if (page.length < UUID_PAGE) break;
    last = page.at(-1)!.uuid;
  }
  if (gone.length === 0) return 0;
  db.transaction((tx) => {
    for (const uuid of gone) tx.delete(files).where(eq(files.uuid, uuid)).run();
  });
  return gone.length;
}

/**
 * Makes these rows as the records say (inserted or replaced) in one transaction, after removing `removed` (or every
 * row: `replaceAll`). Returns the rows changed: 0 when the table already said all of it.
 */
export function projectFiles(
  db: Db,
  recs: readonly NewFileRecord[],
  opts: { replaceAll?: boolean; removed?: readonly string[] } = {},
): number {
  return db.transaction((tx) => {
    let changed = 0;
    if (opts.replaceAll) changed += tx.delete(files).run().changes;
    for (const uuid of opts.removed ?? []) changed += tx.delete(files).where(eq(files.uuid, uuid)).run().changes;
    if (recs.length === 0) return changed;
    // One prepared statement for every row (like insertFiles): a query built per row was most of the garbage of a
    // full read of 100,000 znodes.
    const upsert = tx
      .insert(files)
      .values(FILE_ROW)
      .onConflictDoUpdate({
        target: files.uuid,
        set: {
          name: sql`excluded.name`,
          node: sql`excluded.node`,
          path: sql`excluded.path`,
          sizeBytes: sql`excluded.size_bytes`,
          sha256: sql`excluded.sha256`,
          createdAt: sql`excluded.created_at`,
          updatedAt: sql`excluded.updated_at`,
          history: sql`excluded.history`,
        },
        // A row already as the record says is left alone: a full read over an unchanged table writes nothing (and
        // says so: its caller then keeps the index it has).
        setWhere: sql`files.name is not excluded.name or files.node is not excluded.node or files.path is not excluded.path
          or files.size_bytes is not excluded.size_bytes or files.sha256 is not excluded.sha256 or files.created_at is not excluded.created_at
          or files.updated_at is not excluded.updated_at or files.history is not excluded.history`,
      })
      .prepare();
    for (const rec of recs) changed += upsert.run(toRow(rec)).changes;
    return changed;
  });
}
