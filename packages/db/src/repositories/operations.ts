import { and, count, desc, asc, eq, gt, gte, lt, lte, max, or, sql, type SQL } from 'drizzle-orm';
import { AppError, type OperationRecord, type OperationStatus } from '@zkha/core';
import type { Db } from '../client.ts';
import { operations, type OperationRow } from '../schema.ts';
import { clampLimit, escapeLike, nowIso } from './util.ts';

export interface RecordOperationInput {
  action: string;
  node?: string | null;
  status: OperationStatus;
  details?: Record<string, unknown>;
  beforeMetrics?: Record<string, unknown> | null;
  afterMetrics?: Record<string, unknown> | null;
  /** Defaults to now; any Date-parsable value is normalised to ISO. */
  timestamp?: string;
  /** The acting identity; null when unknown. */
  actor?: string | null;
}

export interface ListOperationsOptions {
  action?: string;
  node?: string;
  status?: OperationStatus;
  /** Inclusive lower bound on timestamp (Date-parsable, normalised to ISO). */
  from?: string;
  /** Inclusive upper bound on timestamp (Date-parsable, normalised to ISO). */
  to?: string;
  /** Case-insensitive substring of the action or the details JSON. */
  text?: string;
  /** Page size, 1..1000, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page: only operations with a smaller id are returned. */
  cursor?: number | null;
}

export interface OperationPage {
  items: OperationRecord[];
  nextCursor: number | null;
  /** Rows matching the filters, regardless of the cursor. */
  total: number;
}

function toRecord(row: OperationRow): OperationRecord {
  return {
    id: row.id,
    timestamp: row.timestamp,
    action: row.action,
    node: row.node,
    status: row.status,
    details: row.details ?? {},
    beforeMetrics: row.beforeMetrics ?? null,
    afterMetrics: row.afterMetrics ?? null,
    actor: row.actor ?? null,
  };
}

// Timestamps are compared as strings, which only orders correctly if every value has the same ISO shape.
function toIso(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('BAD_INPUT', `${field} is not a valid timestamp: "${value}"`, { [field]: value });
  return new Date(ms).toISOString();
}

/** Appends one entry to the operations log and returns it with its id. */
export function recordOperation(db: Db, input: RecordOperationInput): OperationRecord {
  const row = db
    .insert(operations)
    .values({
      timestamp: input.timestamp !== undefined ? toIso(input.timestamp, 'timestamp') : nowIso(),
      action: input.action,
      node: input.node ?? null,
      status: input.status,
      details: input.details ?? {},
      beforeMetrics: input.beforeMetrics ?? null,
      afterMetrics: input.afterMetrics ?? null,
      actor: input.actor ?? null,
    })
    .returning()
    .get();
  return toRecord(row);
}

/** Filtered operations, newest first, paged by id. */
export function listOperations(db: Db, options: ListOperationsOptions = {}): OperationPage {
  const limit = clampLimit(options.limit, 50, 1000);
  const filters: (SQL | undefined)[] = [
    options.action !== undefined ? eq(operations.action, options.action) : undefined,
    options.node !== undefined ? eq(operations.node, options.node) : undefined,
    options.status !== undefined ? eq(operations.status, options.status) : undefined,
    options.from !== undefined ? gte(operations.timestamp, toIso(options.from, 'from')) : undefined,
    options.to !== undefined ? lte(operations.timestamp, toIso(options.to, 'to')) : undefined,
  ];
  if (options.text) {
    const pattern = `%${escapeLike(options.text)}%`;
    filters.push(or(sql`${operations.action} like ${pattern} escape '\\'`, sql`${operations.details} like ${pattern} escape '\\'`));
  }
  const where = and(...filters);
  const cursor = options.cursor ?? null;
  const rows = db
    .select()
    .from(operations)
    .where(cursor !== null ? and(where, lt(operations.id, cursor)) : where)
    .orderBy(desc(operations.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const total = db.select({ n: count() }).from(operations).where(where).get()?.n ?? 0;
  return {
    items: page.map(toRecord),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    total,
  };
}

/** Operations with id greater than `id`, oldest first: the backfill for a subscription resuming after `id`. */
export function operationsSince(db: Db, id: number, limit = 1000): OperationRecord[] {
  return db
    .select()
    .from(operations)
    .where(gt(operations.id, id))
    .orderBy(asc(operations.id))
    .limit(clampLimit(limit, 1000, 10_000))
    .all()
    .map(toRecord);
}

/** Highest operation id, 0 when the log is empty (so `operationsSince(latestOperationId())` is empty). */
export function latestOperationId(db: Db): number {
  return (
    db
      .select({ id: max(operations.id) })
      .from(operations)
      .get()?.id ?? 0
  );
}
