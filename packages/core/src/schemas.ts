/**
 * zod schemas shared by the server (tRPC + REST) and the clients (web, SDK, CLI): one definition
 * of what a valid request is, so every entry point rejects the same bad input with the same words.
 * This entry point must stay free of Node-only imports: the browser bundle imports it.
 */
import { z } from 'zod';

import { NODE_NAME_PATTERN } from './nodes.ts';
import { STRATEGY_NAMES } from './scheduler/balance.ts';

/** Upper bounds that keep one request from filling the disk or hogging the event loop. */
export const LIMITS = {
  maxFilesPerRequest: 2_000,
  maxSizeKb: 16_384, // 16 MiB per generated file
  maxBytesPerRequest: 512 * 1024 * 1024,
  maxPageSize: 500,
  maxThreshold: 1_000_000,
  minIntervalSec: 1,
  maxIntervalSec: 86_400,
  maxReasonLength: 500,
} as const;

export const ZNodeNameSchema = z
  .string()
  .regex(NODE_NAME_PATTERN, 'node must be a short name such as "zk1" (lowercase letters, digits, - or _)');

const fileCount = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(LIMITS.maxFilesPerRequest, `must be at most ${LIMITS.maxFilesPerRequest}`);
const sizeKb = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1 KiB')
  .max(LIMITS.maxSizeKb, `must be at most ${LIMITS.maxSizeKb} KiB`);

function withinByteBudget(count: number, kb: number): boolean {
  return count * kb * 1024 <= LIMITS.maxBytesPerRequest;
}
const byteBudgetMessage = `files x size must stay within ${LIMITS.maxBytesPerRequest / 1024 / 1024} MiB per request`;

export const ZStressInputSchema = z
  .object({
    node: ZNodeNameSchema,
    files: fileCount,
    sizeKb: sizeKb.default(128),
    triggerScheduler: z.boolean().default(false),
  })
  .strict()
  .refine((v) => withinByteBudget(v.files, v.sizeKb), { message: byteBudgetMessage, path: ['files'] });
export type TStressInput = z.infer<typeof ZStressInputSchema>;

export const ZBulkGenerateInputSchema = z
  .object({
    count: fileCount,
    sizeKb: sizeKb.default(64),
    placement: z.enum(['auto', 'pinned']).default('auto'),
    node: ZNodeNameSchema.optional(),
    triggerScheduler: z.boolean().default(false),
  })
  .strict()
  .refine((v) => v.placement !== 'pinned' || v.node !== undefined, {
    message: 'placement "pinned" needs a node',
    path: ['node'],
  })
  .refine((v) => withinByteBudget(v.count, v.sizeKb), { message: byteBudgetMessage, path: ['count'] });
export type TBulkGenerateInput = z.infer<typeof ZBulkGenerateInputSchema>;

export const ZFilesListInputSchema = z
  .object({
    node: ZNodeNameSchema.optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
    offset: z.number().int().min(0).default(0),
  })
  .strict();
export type TFilesListInput = z.infer<typeof ZFilesListInputSchema>;

export const ZFileIdSchema = z.object({ uuid: z.uuid('must be a file uuid') }).strict();

/**
 * How the scheduler acts on a plan: the seed's one move per round, or the whole plan queued at once (the
 * default). Declared once: the server's SCHEDULER_MODE setting, this schema and the services read it.
 */
export const SCHEDULER_MODES = ['one_per_tick', 'whole_plan'] as const;
export type SchedulerMode = (typeof SCHEDULER_MODES)[number];

export const ZSchedulerConfigPatchSchema = z
  .object({
    enabled: z.boolean().optional(),
    intervalSec: z.number().min(LIMITS.minIntervalSec).max(LIMITS.maxIntervalSec).optional(),
    threshold: z.number().int().min(1).max(LIMITS.maxThreshold).optional(),
    mode: z.enum(SCHEDULER_MODES).optional(),
    strategy: z.enum(STRATEGY_NAMES).optional(),
    highWatermark: z.number().gt(0).max(1).optional(),
  })
  .strict();
export type TSchedulerConfigPatch = z.infer<typeof ZSchedulerConfigPatchSchema>;

/**
 * How long `scheduler.run` waits for the moves of its round (ms): by default, and at most. The moves go on in
 * the background past it; the answer then says how many are still pending.
 */
export const RUN_WAIT_MS = { default: 10_000, max: 60_000 } as const;
export const ZSchedulerRunInputSchema = z
  .object({ waitMs: z.number().int().min(0).max(RUN_WAIT_MS.max).default(RUN_WAIT_MS.default) })
  .strict()
  .default({ waitMs: RUN_WAIT_MS.default });
export type TSchedulerRunInput = z.input<typeof ZSchedulerRunInputSchema>;

export const ZDrainInputSchema = z
  .object({
    node: ZNodeNameSchema,
    reason: z.string().trim().max(LIMITS.maxReasonLength).optional(),
  })
  .strict();
export const ZNodeInputSchema = z.object({ node: ZNodeNameSchema }).strict();

export const OPERATION_STATUSES = ['success', 'failed', 'skipped'] as const;
export const ZOperationsListInputSchema = z
  .object({
    action: z.string().max(64).optional(),
    node: ZNodeNameSchema.optional(),
    status: z.enum(OPERATION_STATUSES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    text: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
    cursor: z.number().int().positive().nullish(),
    // Sent by TanStack's infinite queries through tRPC; paging here is always newest first, by cursor.
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .strict();
export type TOperationsListInput = z.infer<typeof ZOperationsListInputSchema>;

export const TASK_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export const ZTasksListInputSchema = z
  .object({
    status: z.enum(TASK_STATUSES).optional(),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(50),
  })
  .strict();

/** The non-file fields of an upload; the file name is checked again by the storage (no paths, no dot files). */
export const ZUploadFieldsSchema = z
  .object({
    node: ZNodeNameSchema,
    name: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
      .optional(),
  })
  .strict();

export const ZNodeActionInputSchema = z
  .object({
    node: ZNodeNameSchema,
    action: z.enum(['stop', 'start', 'restart', 'kill']),
  })
  .strict();

export const ZWorkloadConfigPatchSchema = z
  .object({
    intervalSec: z.number().min(1).max(86_400).optional(),
    maxFiles: z.number().int().min(0).max(100_000).optional(),
    maxBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024 * 1024)
      .optional(),
    minSizeKb: z.number().int().min(1).max(LIMITS.maxSizeKb).optional(),
    maxSizeKb: z.number().int().min(1).max(LIMITS.maxSizeKb).optional(),
    extraClients: z.number().int().min(0).max(100).optional(),
  })
  .strict()
  .refine((v) => v.minSizeKb === undefined || v.maxSizeKb === undefined || v.minSizeKb <= v.maxSizeKb, {
    message: 'minSizeKb must not exceed maxSizeKb',
    path: ['minSizeKb'],
  });

export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const ZLogFilterShape = {
  text: z.string().max(500).optional(),
  level: z.enum(LOG_LEVEL_NAMES).optional(),
  sources: z.array(z.string().min(1).max(64)).max(20).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
export const ZLogSearchInputSchema = z
  .object({
    ...ZLogFilterShape,
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(100),
    cursor: z.string().max(200).nullish(),
    direction: z.enum(['forward', 'backward']).optional(),
  })
  .strict();
export type TLogSearchInput = z.infer<typeof ZLogSearchInputSchema>;
export const ZLogTailInputSchema = z.object({ ...ZLogFilterShape, lastEventId: z.string().regex(/^\d+$/).nullish() }).strict();

export const ZMigrationCapsPatchSchema = z
  .object({
    maxConcurrent: z.number().int().min(1).max(64).optional(),
    maxPerNodeOut: z.number().int().min(1).max(64).optional(),
    maxPerNodeIn: z.number().int().min(1).max(64).optional(),
    bandwidthBytesPerSec: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024 * 1024)
      .nullable()
      .optional(),
  })
  .strict();
export const ZMigrationIdSchema = z.object({ id: z.number().int().positive().optional() }).strict();
export const ZMigrationPlanInputSchema = z
  .object({
    strategy: z.enum(STRATEGY_NAMES).optional(),
    priority: z.number().int().min(1).max(10).default(5),
    deadline: z.iso.datetime({ offset: true }).nullish(),
  })
  .strict();

const migrationPriority = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10, 'must be at most 10');
const migrationDeadline = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 timestamp such as 2026-05-01T12:00:00Z' });

/** One chosen file to one chosen node (`files.migrate`, `POST /api/files/{id}/migrate`). */
export const ZFileMigrateInputSchema = z.object({ uuid: z.uuid('must be a file uuid'), target: ZNodeNameSchema }).strict();
export type TFileMigrateInput = z.infer<typeof ZFileMigrateInputSchema>;

/** The seed's `add_migration_task`: one move, from the node the caller expects the file on. */
export const ZMigrationTaskAddInputSchema = z
  .object({
    uuid: z.uuid('must be a file uuid'),
    source: ZNodeNameSchema,
    target: ZNodeNameSchema,
    priority: migrationPriority.default(5),
    deadline: migrationDeadline.nullish(),
  })
  .strict()
  .refine((v) => v.source !== v.target, { message: 'target must differ from source', path: ['target'] });
export type TMigrationTaskAddInput = z.infer<typeof ZMigrationTaskAddInputSchema>;

/** A queued task's priority or deadline (null clears the deadline). */
/** What a task update changes (`PATCH /api/migrations/tasks/{id}` takes it as its body). */
export const ZMigrationTaskPatchSchema = z
  .object({ priority: migrationPriority.optional(), deadline: migrationDeadline.nullable().optional() })
  .strict();
export const ZMigrationTaskUpdateInputSchema = ZMigrationTaskPatchSchema.extend({
  id: z.number().int('must be a whole number').positive('must be a migration id'),
})
  .strict()
  .refine((v) => v.priority !== undefined || v.deadline !== undefined, {
    message: 'give a priority or a deadline (null clears it)',
    path: ['priority'],
  });
export type TMigrationTaskUpdateInput = z.infer<typeof ZMigrationTaskUpdateInputSchema>;

/** Scale-up: a new storage node, optionally with its capacity (for utilization) and weight (for `weighted`). */
export const ZStorageNodeAddInputSchema = z
  .object({
    node: ZNodeNameSchema,
    capacityBytes: z
      .number()
      .int('must be a whole number of bytes')
      .min(1, 'must be at least 1 byte')
      .max(Number.MAX_SAFE_INTEGER)
      .optional(),
    weight: z.number().int('must be a whole number').min(0, 'must be at least 0').max(1_000, 'must be at most 1000').optional(),
  })
  .strict();
export type TStorageNodeAddInput = z.infer<typeof ZStorageNodeAddInputSchema>;

export const ZDecommissionInputSchema = z
  .object({
    node: ZNodeNameSchema,
    reason: z.string().max(LIMITS.maxReasonLength, `must be at most ${LIMITS.maxReasonLength} characters`).optional(),
  })
  .strict();

export const ZCapacityHistoryInputSchema = z
  .object({ limit: z.number().int().min(1).max(1_000).default(50) })
  .strict()
  .default({ limit: 50 });

export const ZCapacitySamplesInputSchema = z
  .object({
    since: z.iso.datetime({ message: 'since must be an ISO-8601 timestamp' }).optional(),
    limit: z.number().int().min(1).max(10_000).default(1_000),
  })
  .strict()
  .default({ limit: 1_000 });

// ---------------------------------------------------------------------------------------------
// ZooKeeper ensemble scaling (membership changes, rolling restart, scaling policy)

export const ZServerRoleSchema = z.enum(['participant', 'observer']);

/** What a membership change would do, before doing it: `add` a server (with a role) or `remove` one (by node). */
export const ZEnsemblePlanChangeInputSchema = z
  .object({ action: z.enum(['add', 'remove']), node: ZNodeNameSchema.optional(), role: ZServerRoleSchema.optional() })
  .strict()
  .refine((v) => v.action !== 'remove' || v.node !== undefined, { message: 'node is required to remove a server', path: ['node'] });
export type TEnsemblePlanChangeInput = z.infer<typeof ZEnsemblePlanChangeInputSchema>;

/** `confirm`: yes to a change the guards flag (an even number of voters after it). */
export const ZEnsembleAddServerInputSchema = z
  .object({ role: ZServerRoleSchema.default('participant'), confirm: z.boolean().default(false) })
  .strict()
  .default({ role: 'participant', confirm: false });
export type TEnsembleAddServerInput = z.infer<typeof ZEnsembleAddServerInputSchema>;

export const ZEnsembleRemoveServerInputSchema = z.object({ node: ZNodeNameSchema, confirm: z.boolean().default(false) }).strict();
export type TEnsembleRemoveServerInput = z.infer<typeof ZEnsembleRemoveServerInputSchema>;

/** Dry run unless told otherwise: the plan comes back and nothing restarts. */
export const ZEnsembleRollingRestartInputSchema = z
  .object({ dryRun: z.boolean().default(true) })
  .strict()
  .default({ dryRun: true });

const score = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .min(0, `${what} must be at least 0`)
    .max(100, `${what} must be at most 100`);
const voters = (what: string, def: number) =>
  z.number().int(`${what} must be a whole number`).min(3, `${what} must be at least 3`).max(9, `${what} must be at most 9`).default(def);

/** The scaling policy: thresholds on the ensemble load score (0-100), how long they must hold, bounds, automatic mode. */
export const ZScalingPolicySchema = z
  .object({
    auto: z.boolean(),
    upThreshold: score('upThreshold'),
    downThreshold: score('downThreshold'),
    forMinutes: z
      .number()
      .int('forMinutes must be a whole number')
      .min(1, 'forMinutes must be at least 1')
      .max(1_440, 'forMinutes must be at most 1440'),
    cooldownMinutes: z
      .number()
      .int('cooldownMinutes must be a whole number')
      .min(0, 'cooldownMinutes must be at least 0')
      .max(10_080, 'cooldownMinutes must be at most 10080'),
    minVoters: voters('minVoters', 3),
    maxVoters: voters('maxVoters', 7),
  })
  .strict()
  .refine((p) => p.downThreshold < p.upThreshold, { message: 'downThreshold must be below upThreshold', path: ['downThreshold'] })
  .refine((p) => p.minVoters <= p.maxVoters, { message: 'minVoters must not exceed maxVoters', path: ['minVoters'] });
export type TScalingPolicyInput = z.infer<typeof ZScalingPolicySchema>;

/** Samples for the charts: the last `minutes` (at most what is kept), one node or all. */
export const ZEnsembleLoadHistoryInputSchema = z
  .object({ minutes: z.number().int().min(1).max(1_440).default(60), node: ZNodeNameSchema.optional() })
  .strict()
  .default({ minutes: 60 });

// ---- znode explorer -------------------------------------------------------------------------------------------

/** A znode path (the explorer checks its form and answers BAD_INPUT with the reason). */
export const ZZnodePathSchema = z.string().min(1).max(4096);
/** A node's data: UTF-8 text, or any bytes as base64 (exactly one of them). */
export const ZZnodeDataSchema = z.union([
  z.object({ text: z.string().max(1024 * 1024) }).strict(),
  z.object({ base64: z.base64().max(1_400_000) }).strict(),
]);
/** ACL entries in ZooKeeper's notation, `scheme:id:perms`, perms as cdrwa letters. */
export const ZZnodeAclSchema = z.array(z.string().min(3).max(512)).min(1).max(64);
/** The version a write is made at: the one read (ZooKeeper refuses it if the node changed since), or -1 for any. */
export const ZZnodeVersionSchema = z.number().int().min(-1);

export const ZZnodePathInputSchema = z.object({ path: ZZnodePathSchema }).strict();
// Path search: a prefix (/zkha/fe), or a glob (/zkha/*/q-*, or /**/config): * within one name, ** across levels.
export const ZZnodeFindInputSchema = z
  .object({
    pattern: z
      .string()
      .min(1)
      .max(1024)
      .startsWith('/', 'must start with /: a path prefix such as /zkha/fe, or a glob such as /zkha/*/q-*'),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();
/** What the explorer follows: the open node, and the children of each open tree level. */
export const ZZnodeWatchInputSchema = z
  .object({ path: ZZnodePathSchema, expanded: z.array(ZZnodePathSchema).max(500).default([]) })
  .strict();
export const ZZnodeSetInputSchema = z
  .object({ path: ZZnodePathSchema, data: ZZnodeDataSchema, version: ZZnodeVersionSchema, confirm: z.boolean().optional() })
  .strict();
export const ZZnodeCreateInputSchema = z
  .object({
    path: ZZnodePathSchema,
    data: ZZnodeDataSchema.default({ text: '' }),
    mode: z.enum(['persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential']).default('persistent'),
    // A TTL node: ZooKeeper deletes it once it has had no children and no change for this long (persistent modes only).
    ttlMs: z
      .number()
      .int('must be a whole number of ms')
      .min(1, 'must be at least 1 ms')
      .max(2 ** 40 - 1, 'must be at most 2^40-1 ms')
      .optional(),
    acl: ZZnodeAclSchema.optional(),
    confirm: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.ttlMs === undefined || !v.mode.startsWith('ephemeral'), {
    message: 'an ephemeral node cannot have a TTL (it goes with its session)',
    path: ['ttlMs'],
  });
export const ZZnodeRemoveInputSchema = z
  .object({
    path: ZZnodePathSchema,
    version: ZZnodeVersionSchema.default(-1),
    recursive: z.boolean().optional(),
    confirm: z.boolean().optional(),
  })
  .strict();
export const ZZnodeSetAclInputSchema = z
  .object({ path: ZZnodePathSchema, acl: ZZnodeAclSchema, version: ZZnodeVersionSchema, confirm: z.boolean().optional() })
  .strict();

/** The four-letter words the explorer's admin panel may send: all read-only. */
export const FOUR_LETTER_COMMANDS = ['srvr', 'stat', 'mntr', 'conf', 'cons', 'wchs', 'envi', 'ruok', 'isro', 'dirs'] as const;
export type FourLetterCommand = (typeof FOUR_LETTER_COMMANDS)[number];
export const ZFourLetterInputSchema = z
  .object({ node: ZNodeNameSchema, command: z.enum(FOUR_LETTER_COMMANDS, { error: `accepts ${FOUR_LETTER_COMMANDS.join(', ')}` }) })
  .strict();

/** A subtree exported by the explorer (format zkha-znodes/1), as an import takes it. */
export const ZZnodeExportSchema = z
  .object({
    format: z.string(),
    root: z.string(),
    exportedAt: z.string(),
    nodes: z
      .array(
        z.object({ path: z.string().max(4096), dataBase64: z.base64().max(1_400_000), acl: z.array(z.string().max(512)).max(64) }).strict(),
      )
      .max(10_000),
  })
  .strict();
export const ZZnodeImportInputSchema = z
  .object({ into: ZZnodePathSchema, tree: ZZnodeExportSchema, dryRun: z.boolean().default(true), confirm: z.boolean().optional() })
  .strict();
