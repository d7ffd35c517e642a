import { sql } from 'drizzle-orm';
import { check, index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { CapacityTrend, FileHistoryEntry, OperationStatus, TaskStatus } from '@zkha/core';

/**
 * Timestamps are ISO-8601 strings (not unix integers) so rows read the same in the sqlite3 shell,
 * in logs and over the API, and so lexical order equals time order for range filters.
 */

// Mirrors of the status unions in @zkha/core, kept literal here because drizzle-kit loads this file on
// its own and should not need to execute the core package.
const OPERATION_STATUSES = ['success', 'failed', 'skipped'] as const;
const TASK_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
const CAPACITY_TRENDS = ['growing', 'stable', 'shrinking', 'unknown'] as const satisfies readonly CapacityTrend[];

export const files = sqliteTable(
  'files',
  {
    uuid: text('uuid').primaryKey(),
    name: text('name').notNull(),
    node: text('node').notNull(),
    /** Where the file lives: `<node>/<name>`, the name its node's storage agent serves it under (locationOf). */
    path: text('path').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    // A JSON array rather than a child table: history is always read whole with its file and only
    // ever appended to, which json_insert does atomically in the same UPDATE that moves the file.
    history: text('history', { mode: 'json' })
      .$type<FileHistoryEntry[]>()
      .notNull()
      .default(sql`'[]'`),
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
    details: text('details', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    beforeMetrics: text('before_metrics', { mode: 'json' }).$type<Record<string, unknown>>(),
    afterMetrics: text('after_metrics', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Who acted: `token:<name>`, `session:<name>`, `local` (no auth configured) or `system` (timers, recovery). */
    actor: text('actor'),
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
    payload: text('payload', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('tasks_status_idx').on(t.status), check('tasks_status_check', sql`${t.status} in ('queued', 'running', 'done', 'failed')`)],
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
export const MIGRATION_ORIGINS = ['auto', 'manual'] as const;

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
    /** Locations (`<node>/<name>`) the move reads from and writes to. */
    sourcePath: text('source_path').notNull(),
    targetPath: text('target_path').notNull(),
    /** Unused since the agents keep their own temp files (always ''); kept so older journals still load. */
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
    /**
     * Who asked for the move: `auto` (the scheduler, on its timer or through scheduler.run) or `manual` (an
     * operator: a chosen file, a task added by hand, a plan queued by hand, a decommission). It decides the
     * action of the operation recorded when the move commits (`auto_migrate` or `migrate`).
     */
    origin: text('origin', { enum: MIGRATION_ORIGINS }).notNull().default('manual'),
  },
  (t) => [
    index('migrations_status_idx').on(t.status),
    index('migrations_uuid_idx').on(t.uuid),
    index('migrations_plan_idx').on(t.planId),
    check('migrations_status_check', sql`${t.status} in ('pending', 'running', 'completed', 'failed', 'cancelled', 'paused')`),
    check('migrations_phase_check', sql`${t.phase} in ('planned', 'copying', 'copied', 'committed', 'cleaned')`),
  ],
);

export const NODE_LIFECYCLES = ['joining', 'active', 'leaving', 'removed'] as const;

/**
 * Storage nodes and where each stands in its life (the seed's elastic-scaling flows). The ensemble's
 * servers are storage nodes from the start; `added` nodes were registered later (scale-up). A `leaving`
 * node is being decommissioned (drained under the migration caps); a `removed` one is out of placement
 * and out of the console's node list, kept here so its history and an undo still make sense.
 */
export const storageNodes = sqliteTable(
  'storage_nodes',
  {
    node: text('node').primaryKey(),
    lifecycle: text('lifecycle', { enum: NODE_LIFECYCLES }).notNull(),
    origin: text('origin', { enum: ['ensemble', 'added'] }).notNull(),
    capacityBytes: integer('capacity_bytes'),
    weight: integer('weight'),
    reason: text('reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    check('storage_nodes_lifecycle_check', sql`${t.lifecycle} in ('joining', 'active', 'leaving', 'removed')`),
    check('storage_nodes_origin_check', sql`${t.origin} in ('ensemble', 'added')`),
  ],
);

/** Cluster usage over time: the capacity planner's trend is a fit over these samples. */
export const capacitySamples = sqliteTable(
  'capacity_samples',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    usedBytes: integer('used_bytes').notNull(),
    capacityBytes: integer('capacity_bytes').notNull(),
    fileCount: integer('file_count').notNull(),
    nodeCount: integer('node_count').notNull(),
  },
  (t) => [index('capacity_samples_at_idx').on(t.at)],
);

/** Every recommendation the capacity planner made, with the figures behind it. */
export const capacityRecommendations = sqliteTable(
  'capacity_recommendations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    action: text('action', { enum: ['scale_up', 'scale_down', 'no_action'] }).notNull(),
    nodesToAdd: integer('nodes_to_add').notNull(),
    nodesToRemove: integer('nodes_to_remove').notNull(),
    trend: text('trend', { enum: CAPACITY_TRENDS }).notNull(),
    utilization: integer('utilization_ppm').notNull(),
    details: text('details', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
  },
  (t) => [index('capacity_recommendations_at_idx').on(t.at)],
);

export const ROLES = ['viewer', 'operator'] as const;

/** API tokens: only a SHA-256 of the secret is kept (tokens are 256-bit random, so no slow hash is needed). */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull().unique(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
    revokedAt: text('revoked_at'),
  },
  (t) => [check('api_tokens_role_check', sql`${t.role} in ('viewer', 'operator')`)],
);

/** Web console sessions: the cookie carries a random id; only its hash is stored. */
export const authSessions = sqliteTable(
  'auth_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    identity: text('identity').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('auth_sessions_expires_idx').on(t.expiresAt), check('auth_sessions_role_check', sql`${t.role} in ('viewer', 'operator')`)],
);

/**
 * The ZooKeeper ensemble's load, averaged per minute: one row per server and minute, and one for the
 * whole ensemble (node ''). The last hour at the probe interval lives in memory; this is the longer
 * history behind the charts, pruned after a week.
 */
export const ensembleLoadSamples = sqliteTable(
  'ensemble_load_samples',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Start of the minute (ISO). */
    at: text('at').notNull(),
    node: text('node').notNull(),
    /** Probes averaged into this row. */
    samples: integer('samples').notNull(),
    score: real('score'),
    requestsPerSec: real('requests_per_sec'),
    latencyAvgMs: real('latency_avg_ms'),
    /** The largest of the minute, like the latency figures' own max. */
    latencyMaxMs: real('latency_max_ms'),
    latencyP99Ms: real('latency_p99_ms'),
    cpuPercent: real('cpu_percent'),
    rssBytes: integer('rss_bytes'),
    connections: real('connections'),
    znodeCount: integer('znode_count'),
    outstandingRequests: real('outstanding_requests'),
  },
  (t) => [index('ensemble_load_samples_at_idx').on(t.at), index('ensemble_load_samples_node_at_idx').on(t.node, t.at)],
);

/** Ensemble-scaling settings changed through the API (the scaling policy), so they outlive a restart. */
export const ensembleSettings = sqliteTable('ensemble_settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  updatedAt: text('updated_at').notNull(),
});

/**
 * Where this instance's `files` table stood against ZooKeeper's file tree when it last stopped cleanly: equal to the
 * tree as of change-feed entry `feedPosition` ('' for an empty feed) of the feed root created at `feedCzxid`. At most
 * one row; taken (read and deleted) at start, so a crash later never finds one. With it, a restart applies the feed
 * entries since instead of reading every file znode (see FileProjection).
 */
export const fileProjectionCheckpoint = sqliteTable(
  'file_projection_checkpoint',
  {
    id: integer('id').primaryKey(),
    feedCzxid: text('feed_czxid').notNull(),
    feedPosition: text('feed_position').notNull(),
    treeComplete: integer('tree_complete', { mode: 'boolean' }).notNull(),
    savedAt: text('saved_at').notNull(),
  },
  (t) => [check('file_projection_checkpoint_one_row', sql`${t.id} = 1`)],
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
export type StorageNodeRow = typeof storageNodes.$inferSelect;
export type CapacitySampleRow = typeof capacitySamples.$inferSelect;
export type CapacityRecommendationRow = typeof capacityRecommendations.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type AuthSessionRow = typeof authSessions.$inferSelect;
export type EnsembleLoadSampleRow = typeof ensembleLoadSamples.$inferSelect;

// Fails to compile if the literal lists above drift from the core unions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesMatchCore: [Same<OperationRow['status'], OperationStatus>, Same<TaskRow['status'], TaskStatus>] = [true, true];
void statusesMatchCore;
