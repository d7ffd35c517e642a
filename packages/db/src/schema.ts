import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { FileHistoryEntry, OperationStatus, TaskStatus } from '@zkha/core';

/**
 * Timestamps are ISO-8601 strings (not unix integers) so rows read the same in the sqlite3 shell,
 * in logs and over the API, and so lexical order equals time order for range filters.
 */

// Mirrors of the status unions in @zkha/core, kept literal here because drizzle-kit loads this file on
// its own and should not need to execute the core package.
const OPERATION_STATUSES = ['success', 'failed', 'skipped'] as const;
const TASK_STATUSES = ['queued', 'running', 'done', 'failed'] as const;

export const files = sqliteTable(
  'files',
  {
    uuid: text('uuid').primaryKey(),
    name: text('name').notNull(),
    node: text('node').notNull(),
    path: text('path').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    // A JSON array rather than a child table: history is always read whole with its file and only
    // ever appended to, which json_insert does atomically in the same UPDATE that moves the file.
    history: text('history', { mode: 'json' }).$type<FileHistoryEntry[]>().notNull().default(sql`'[]'`),
  },
  (t) => [index('files_node_idx').on(t.node), index('files_created_at_idx').on(t.createdAt)],
);

export const operations = sqliteTable(
  'operations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    timestamp: text('timestamp').notNull(),
    action: text('action').notNull(),
    node: text('node'),
    status: text('status', { enum: OPERATION_STATUSES }).notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    beforeMetrics: text('before_metrics', { mode: 'json' }).$type<Record<string, unknown>>(),
    afterMetrics: text('after_metrics', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    index('operations_timestamp_idx').on(t.timestamp),
    index('operations_action_idx').on(t.action),
    index('operations_node_idx').on(t.node),
    // The TS enum only guards our own writes; the CHECK also guards hand edits and old binaries.
    check('operations_status_check', sql`${t.status} in ('success', 'failed', 'skipped')`),
  ],
);

export const tasks = sqliteTable(
  'tasks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    status: text('status', { enum: TASK_STATUSES }).notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('tasks_status_idx').on(t.status),
    check('tasks_status_check', sql`${t.status} in ('queued', 'running', 'done', 'failed')`),
  ],
);

export const nodeStates = sqliteTable('node_states', {
  node: text('node').primaryKey(),
  drained: integer('drained', { mode: 'boolean' }).notNull().default(false),
  reason: text('reason'),
  updatedAt: text('updated_at').notNull(),
});

export const STORE_STATUSES = ['OK', 'OFFLINE', 'SUSPECT'] as const;

/**
 * Liveness of each storage node as last seen through its ephemeral `alive` znode. ZooKeeper is the
 * truth; this table is the durable, queryable copy that the watcher and the reconciler keep in step.
 */
export const stores = sqliteTable(
  'stores',
  {
    node: text('node').primaryKey(),
    status: text('status', { enum: STORE_STATUSES }).notNull(),
    address: text('address'),
    capacityBytes: integer('capacity_bytes'),
    startedAt: text('started_at'),
    heartbeatAt: text('heartbeat_at'),
    lastChange: text('last_change').notNull(),
    reason: text('reason'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [check('stores_status_check', sql`${t.status} in ('OK', 'OFFLINE', 'SUSPECT')`)],
);

export const MIGRATION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'paused'] as const;
/** The crash-safety journal: each move's phase is written before the disk is touched for that phase. */
export const MIGRATION_PHASES = ['planned', 'copying', 'copied', 'committed', 'cleaned'] as const;

export const migrations = sqliteTable(
  'migrations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    planId: text('plan_id').notNull(),
    uuid: text('uuid').notNull(),
    name: text('name').notNull(),
    source: text('source').notNull(),
    target: text('target').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    sourcePath: text('source_path').notNull(),
    targetPath: text('target_path').notNull(),
    tempPath: text('temp_path').notNull(),
    priority: integer('priority').notNull().default(5),
    deadline: text('deadline'),
    status: text('status', { enum: MIGRATION_STATUSES }).notNull(),
    phase: text('phase', { enum: MIGRATION_PHASES }).notNull(),
    bytesDone: integer('bytes_done').notNull().default(0),
    throughput: integer('throughput'),
    reason: text('reason'),
    error: text('error'),
    createdAt: text('created_at').notNull(),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
  },
  (t) => [
    index('migrations_status_idx').on(t.status),
    index('migrations_uuid_idx').on(t.uuid),
    index('migrations_plan_idx').on(t.planId),
    check('migrations_status_check', sql`${t.status} in ('pending', 'running', 'completed', 'failed', 'cancelled', 'paused')`),
    check('migrations_phase_check', sql`${t.phase} in ('planned', 'copying', 'copied', 'committed', 'cleaned')`),
  ],
);

export type FileRow = typeof files.$inferSelect;
export type NewFileRow = typeof files.$inferInsert;
export type OperationRow = typeof operations.$inferSelect;
export type NewOperationRow = typeof operations.$inferInsert;
export type TaskRow = typeof tasks.$inferSelect;
export type NodeStateRow = typeof nodeStates.$inferSelect;
export type StoreRow = typeof stores.$inferSelect;
export type MigrationRow = typeof migrations.$inferSelect;
export type NewMigrationRow = typeof migrations.$inferInsert;

// Fails to compile if the literal lists above drift from the core unions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesMatchCore: [Same<OperationRow['status'], OperationStatus>, Same<TaskRow['status'], TaskStatus>] = [true, true];
void statusesMatchCore;
