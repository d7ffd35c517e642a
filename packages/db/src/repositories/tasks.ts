import { count, desc, eq } from 'drizzle-orm';
import { AppError, TASK_STATUSES, type TaskRecord, type TaskStatus } from '@zkha/core';
import type { Db } from '../client.ts';
import { tasks, type TaskRow } from '../schema.ts';
import { clampLimit, nowIso } from './util.ts';

export interface ListTasksOptions {
  status?: TaskStatus;
  /** 1..1000, default 50. */
  limit?: number;
}

function toRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    status: row.status,
    payload: row.payload ?? {},
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function createTask(db: Db, payload: Record<string, unknown>, status: TaskStatus = 'queued'): TaskRecord {
  const now = nowIso();
  return toRecord(db.insert(tasks).values({ status, payload, createdAt: now, updatedAt: now }).returning().get());
}

export function getTask(db: Db, id: number): TaskRecord | null {
  const row = db.select().from(tasks).where(eq(tasks.id, id)).get();
  return row ? toRecord(row) : null;
}

/** Throws TASK_NOT_FOUND. */
export function updateTaskStatus(db: Db, id: number, status: TaskStatus): TaskRecord {
  const row = db.update(tasks).set({ status, updatedAt: nowIso() }).where(eq(tasks.id, id)).returning().get();
  if (!row) throw new AppError('TASK_NOT_FOUND', `task ${id} not found`, { id });
  return toRecord(row);
}

/** Newest first. */
export function listTasks(db: Db, options: ListTasksOptions = {}): TaskRecord[] {
  return db
    .select()
    .from(tasks)
    .where(options.status !== undefined ? eq(tasks.status, options.status) : undefined)
    .orderBy(desc(tasks.id))
    .limit(clampLimit(options.limit, 50, 1000))
    .all()
    .map(toRecord);
}

/** Count per status, with every status present (0 when none) so dashboards need no defaults. */
export function countTasksByStatus(db: Db): Record<TaskStatus, number> {
  const out = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  const rows = db.select({ status: tasks.status, n: count() }).from(tasks).groupBy(tasks.status).all();
  for (const row of rows) out[row.status] = row.n;
  return out;
}
