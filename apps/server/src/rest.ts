/**
 * The seed design's REST endpoints, answering with the same fields so its documented curl commands work
 * as written. Each handler validates with the same zod schema as the tRPC procedure, then calls the same service.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { AppError, NODE_ACTIONS } from '@zkha/core';
import {
  ZBulkGenerateInputSchema,
  ZDrainInputSchema,
  ZFileMigrateInputSchema,
  ZMigrationTaskAddInputSchema,
  ZMigrationTaskPatchSchema,
  ZMigrationTaskUpdateInputSchema,
  ZFileIdSchema,
  ZNodeInputSchema,
  ZNodeNameSchema,
  ZOperationsListInputSchema,
  ZLogSearchInputSchema,
  ZNodeActionInputSchema,
  ZSchedulerRunInputSchema,
  ZStressInputSchema,
  ZUploadFieldsSchema,
  ZFourLetterInputSchema,
  ZZnodeCreateInputSchema,
  ZZnodeImportInputSchema,
  ZZnodePathInputSchema,
  ZZnodeRemoveInputSchema,
  ZZnodeSetAclInputSchema,
  ZZnodeSetInputSchema,
} from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';

const NodeParams = ZNodeInputSchema;
const PathQuery = ZZnodePathInputSchema;

/** `size_kb` → `sizeKb`, so bodies written for the seed's API validate against the shared camelCase schemas. */
export function camelKeys(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

function requireObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new AppError('BAD_INPUT', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** One `bytes=a-b` / `bytes=a-` range, or null for the whole file (suffix and multiple ranges are not offered). */
function parseByteRange(header: string | undefined): { start: number; end?: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) throw new AppError('BAD_INPUT', `Range ${JSON.stringify(header)} is not supported: send bytes=<start>-<end> or bytes=<start>-`);
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (end !== undefined && end < start) throw new AppError('BAD_INPUT', `Range ${header} ends before it starts`);
  return end === undefined ? { start } : { start, end };
}

const FileIdParams = z.object({ id: z.uuid('must be a file uuid') });
const TaskIdParams = z.object({ id: z.number().int().positive() });
const FilesQuery = z.object({
  node: ZNodeNameSchema.optional(),
  limit: z.number().int().min(1).max(500).default(50),
  offset: z.number().int().min(0).default(0),
});
const VerifyQuery = z.object({ repair: z.enum(['true', 'false']).default('false') });
const LogSearchQuery = z.object({
  q: z.string().optional(),
  level: z.string().optional(),
  source: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.number().int().optional(),
  cursor: z.string().optional(),
});

const numericQuery = (v: unknown) => (typeof v === 'string' && v !== '' && /^-?\d+$/.test(v) ? Number(v) : v);

export async function registerRest(app: FastifyInstance, services: Services): Promise<void> {
  app.get(
    '/api/scheduler/diagnostics',
    {
      schema: doc({
        tag: 'scheduler',
        summary: "The seed's scheduler diagnostics: counts per node, source, target, candidate, delta, threshold, reason, message",
      }),
    },
    async () => services.scheduler.diagnostics(),
  );

  // The seed's call takes no body; `{"wait_ms": 0}` (or `?waitMs=0`) returns as soon as the round is queued.
  app.post<{ Querystring: Record<string, unknown> }>(
    '/api/scheduler/run',
    {
      schema: doc({
        tag: 'scheduler',
        summary: "Runs a scheduler round now (the seed's call; waitMs=0 returns once queued)",
        querystring: ZSchedulerRunInputSchema,
        body: ZSchedulerRunInputSchema,
      }),
    },
    async (req) => {
      const query = camelKeys(req.query ?? {}) as Record<string, unknown>;
      const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      const input = ZSchedulerRunInputSchema.parse({
        ...(query.waitMs !== undefined ? { waitMs: numericQuery(query.waitMs) } : {}),
        ...body,
      });
      return services.scheduler.run('manual', input);
    },
  );

  app.get('/api/scheduler/config', { schema: doc({ tag: 'scheduler', summary: 'The scheduler settings' }) }, async () =>
    services.scheduler.getConfig(),
  );

  app.post(
    '/api/files/bulk-generate',
    {
      schema: doc({
        tag: 'files',
        summary: 'Generates demo files (the seed\'s call; placement "pin" is accepted for "pinned")',
        body: ZBulkGenerateInputSchema,
      }),
    },
    async (req) => {
      const raw = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      // The seed's API says "pin" for a pinned node.
      if (raw.placement === 'pin') raw.placement = 'pinned';
      return services.workload.bulkGenerate(ZBulkGenerateInputSchema.parse(raw));
    },
  );

  app.post(
    '/api/demo/stress',
    { schema: doc({ tag: 'workload', summary: "Piles files on one node (the seed's stress call)", body: ZStressInputSchema }) },
    async (req) => services.workload.stress(ZStressInputSchema.parse(camelKeys(requireObject(req.body)))),
  );

  app.post<{ Params: { node: string } }>(
    '/api/nodes/:node/drain',
    {
      schema: doc({
        tag: 'nodes',
        summary: 'Drains a node: the scheduler moves nothing onto it',
        params: NodeParams,
        body: ZDrainInputSchema.omit({ node: true }),
      }),
    },
    async (req) => {
      const body = requireObject(req.body);
      const input = ZDrainInputSchema.parse({ node: req.params.node, ...(body.reason !== undefined ? { reason: body.reason } : {}) });
      const state = services.nodes.drain(input.node, input.reason);
      return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
    },
  );

  app.post<{ Params: { node: string } }>(
    '/api/nodes/:node/undrain',
    { schema: doc({ tag: 'nodes', summary: 'Ends a drain', params: NodeParams }) },
    async (req) => {
      const input = ZNodeInputSchema.parse({ node: req.params.node });
      const state = services.nodes.undrain(input.node);
      return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
    },
  );

  app.get('/api/nodes', { schema: doc({ tag: 'nodes', summary: 'Every node with its figures, files and state' }) }, async () =>
    services.nodes.list(),
  );

  for (const action of NODE_ACTIONS) {
    app.post<{ Params: { node: string } }>(
      `/api/nodes/:node/${action}`,
      {
        schema: doc({
          tag: 'nodes',
          summary: `${action[0]!.toUpperCase()}${action.slice(1)}s a ZooKeeper server (through Docker or its local process)`,
          params: NodeParams,
        }),
      },
      async (req) => {
        const input = ZNodeActionInputSchema.parse({ node: req.params.node, action });
        return services.nodes.control(input.node, input.action);
      },
    );
  }

  app.get(
    '/api/stores',
    { schema: doc({ tag: 'nodes', summary: 'The storage agents as their ephemeral znodes say' }) },
    async () => services.liveness?.list() ?? [],
  );

  // The zkha instances on this ensemble, which one leads, and the last takeovers (any instance answers).
  app.get(
    '/api/control',
    { schema: doc({ tag: 'control', summary: 'The zkha instances on this ensemble, the leader, the last takeovers' }) },
    async () => services.controlStatus(),
  );

  // The znode explorer (the same inputs as tRPC's znodes.*): ?path= for reads, a JSON body for writes.
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes/children',
    { schema: doc({ tag: 'znodes', summary: "A znode's children with their child counts", querystring: PathQuery }) },
    async (req) => services.znodes.children(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes',
    { schema: doc({ tag: 'znodes', summary: 'A znode: data (text, JSON, base64), stat, ACL', querystring: PathQuery }) },
    async (req) => services.znodes.get(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.put(
    '/api/znodes',
    {
      schema: doc({
        tag: 'znodes',
        summary: "Sets a znode's data at the version it was read at (a conflict answers 409 with the newer data)",
        body: ZZnodeSetInputSchema,
      }),
    },
    async (req) => services.znodes.set(ZZnodeSetInputSchema.parse(requireObject(req.body))),
  );
  app.post(
    '/api/znodes',
    { schema: doc({ tag: 'znodes', summary: 'Creates a znode (persistent, sequential, ephemeral-free)', body: ZZnodeCreateInputSchema }) },
    async (req) => services.znodes.create(ZZnodeCreateInputSchema.parse(requireObject(req.body))),
  );
  app.delete(
    '/api/znodes',
    {
      schema: doc({
        tag: 'znodes',
        summary: 'Deletes a znode; recursive deletes count first and need confirm',
        body: ZZnodeRemoveInputSchema,
      }),
    },
    async (req) => services.znodes.remove(ZZnodeRemoveInputSchema.parse(requireObject(req.body))),
  );
  app.put(
    '/api/znodes/acl',
    { schema: doc({ tag: 'znodes', summary: "Sets a znode's ACL (world, digest, ip schemes)", body: ZZnodeSetAclInputSchema }) },
    async (req) => services.znodes.setAcl(ZZnodeSetAclInputSchema.parse(requireObject(req.body))),
  );
  app.get<{ Querystring: Record<string, unknown> }>(
    '/api/znodes/export',
    { schema: doc({ tag: 'znodes', summary: 'A subtree as JSON', querystring: PathQuery }) },
    async (req) => services.znodes.exportTree(ZZnodePathInputSchema.parse(req.query ?? {}).path),
  );
  app.post(
    '/api/znodes/import',
    {
      schema: doc({
        tag: 'znodes',
        summary: 'Imports an exported subtree (dryRun lists what would change)',
        body: ZZnodeImportInputSchema,
      }),
    },
    async (req) => services.znodes.importTree(ZZnodeImportInputSchema.parse(requireObject(req.body))),
  );
  app.get<{ Params: { node: string; command: string } }>(
    '/api/nodes/:node/4lw/:command',
    {
      schema: doc({
        tag: 'nodes',
        summary: "A four-letter word's answer from one server (read-only words only)",
        params: ZFourLetterInputSchema,
      }),
    },
    async (req) => {
      const input = ZFourLetterInputSchema.parse({ node: req.params.node, command: req.params.command });
      return services.cluster.fourLetter(input.node, input.command);
    },
  );

  app.get(
    '/api/overview',
    { schema: doc({ tag: 'overview', summary: 'Nodes, cluster summary, scheduler settings and plan, totals' }) },
    async () => {
      const nodes = await services.nodes.list();
      const summary = services.cluster.summary();
      const plan = services.scheduler.diagnostics();
      return {
        nodes,
        cluster: summary,
        scheduler: { ...services.scheduler.getConfig(), plan },
        totals: { files: plan.totalFiles, tasks: services.workload.taskCounts() },
      };
    },
  );

  app.get(
    '/api/files',
    { schema: doc({ tag: 'files', summary: 'A page of files, optionally on one node', querystring: FilesQuery }) },
    async (req) => {
      const q = z.record(z.string(), z.unknown()).parse(req.query ?? {});
      return services.files.list({
        node: typeof q.node === 'string' ? q.node : undefined,
        limit: Math.min(Math.max(Number(numericQuery(q.limit) ?? 50) || 50, 1), 500),
        offset: Math.max(Number(numericQuery(q.offset) ?? 0) || 0, 0),
      });
    },
  );

  app.get(
    '/api/operations',
    { schema: doc({ tag: 'logs', summary: 'The audit of operations, newest first', querystring: ZOperationsListInputSchema }) },
    async (req) => {
      const q = Object.fromEntries(
        Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          k === 'limit' || k === 'cursor' ? numericQuery(v) : v,
        ]),
      );
      return services.operations.list(ZOperationsListInputSchema.parse(q));
    },
  );

  app.post(
    '/api/files/verify',
    {
      schema: doc({
        tag: 'files',
        summary: 'Checks every file against its recorded checksum (repair=true fixes what can be fixed)',
        querystring: VerifyQuery,
      }),
    },
    async (req) => {
      const q = z.object({ repair: z.enum(['true', 'false']).default('false') }).parse(req.query ?? {});
      return services.files.verify({ repair: q.repair === 'true' });
    },
  );

  app.get(
    '/api/logs/search',
    { schema: doc({ tag: 'logs', summary: 'Searches the logs (q: text, source: a comma-separated list)', querystring: LogSearchQuery }) },
    async (req) => {
      const q = (req.query ?? {}) as Record<string, unknown>;

      const input = ZLogSearchInputSchema.parse({
        ...(typeof q.q === 'string' ? { text: q.q } : {}),
        ...(typeof q.level === 'string' ? { level: q.level } : {}),
        ...(typeof q.source === 'string' ? { sources: q.source.split(',') } : {}),
        ...(typeof q.from === 'string' ? { from: q.from } : {}),
        ...(typeof q.to === 'string' ? { to: q.to } : {}),
        ...(q.limit !== undefined ? { limit: numericQuery(q.limit) } : {}),
        ...(typeof q.cursor === 'string' ? { cursor: q.cursor } : {}),
      });
      return services.logs.search(input);
    },
  );

  app.delete<{ Params: { uuid: string } }>(
    '/api/files/:uuid',
    { schema: doc({ tag: 'files', summary: 'Deletes a file', params: ZFileIdSchema }) },
    async (req) => {
      const { uuid } = z.object({ uuid: z.uuid('must be a file uuid') }).parse(req.params);
      return services.files.delete(uuid);
    },
  );

  // One chosen file to one chosen node: `{"target": "zk2"}`; answers the queued task (or why not, coded).
  app.post<{ Params: { id: string } }>(
    '/api/files/:id/migrate',
    {
      schema: doc({
        tag: 'files',
        summary: 'Moves one file to a chosen node',
        params: FileIdParams,
        body: ZFileMigrateInputSchema.omit({ uuid: true }),
      }),
    },
    async (req) => {
      const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      return services.migrationTasks.moveFile(ZFileMigrateInputSchema.parse({ ...body, uuid: req.params.id }));
    },
  );

  // The seed's add_migration_task: `{"uuid", "source", "target", "priority"?, "deadline"?}`.
  app.post(
    '/api/migrations/tasks',
    { schema: doc({ tag: 'migrations', summary: "The seed's add_migration_task", body: ZMigrationTaskAddInputSchema }) },
    async (req) => services.migrationTasks.addTask(ZMigrationTaskAddInputSchema.parse(camelKeys(requireObject(req.body)))),
  );

  // A queued task's priority or deadline: `{"priority"?: 1-10, "deadline"?: ISO | null}`.
  app.patch<{ Params: { id: string } }>(
    '/api/migrations/tasks/:id',
    {
      schema: doc({
        tag: 'migrations',
        summary: "A queued task's priority or deadline",
        params: TaskIdParams,
        body: ZMigrationTaskPatchSchema,
      }),
    },
    async (req) => {
      const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
      return services.migrationTasks.updateTask(ZMigrationTaskUpdateInputSchema.parse({ ...body, id: numericQuery(req.params.id) }));
    },
  );

  // The seed's get_migration_status.
  app.get('/api/migrations/status', { schema: doc({ tag: 'migrations', summary: "The seed's get_migration_status" }) }, async () =>
    services.migrationTasks.status(),
  );

  // A file's bytes, streamed from its node's agent: `curl -o f.bin '/api/files/<uuid>/content'`; one `Range: bytes=a-b`
  // is honoured (206), as the agent serves it.
  app.get<{ Params: { id: string } }>(
    '/api/files/:id/content',
    {
      schema: doc({
        tag: 'files',
        summary: "A file's bytes, streamed from its node's agent (one Range: bytes=a-b is honoured)",
        params: FileIdParams,
        rawAnswer: 'application/octet-stream',
      }),
    },
    async (req, reply) => {
      const range = parseByteRange(req.headers.range);
      const { file, stream } = await services.files.read(z.uuid({ error: 'must be a file uuid' }).parse(req.params.id), range ?? undefined);
      reply
        .code(stream.status)
        .header('content-type', 'application/octet-stream')
        .header('content-length', stream.sizeBytes)
        .header('content-disposition', `attachment; filename="${file.name.replace(/["\\]/g, '_')}"`)
        .header('etag', `"${file.sha256}"`)
        .header('accept-ranges', 'bytes');
      if (stream.status === 206)
        reply.header('content-range', `bytes ${range!.start}-${range!.start + stream.sizeBytes - 1}/${stream.totalBytes}`);
      return reply.send(stream);
    },
  );

  // Streaming upload: `curl --data-binary @f -H 'content-type: application/octet-stream' '/api/files/upload?node=zk1&name=f.bin'`.
  app.post(
    '/api/files/upload',
    {
      schema: doc({
        tag: 'files',
        summary: 'Uploads a file as a raw stream',
        querystring: ZUploadFieldsSchema,
        rawBody: 'application/octet-stream',
      }),
    },
    async (req, reply) => {
      const q = ZUploadFieldsSchema.parse(req.query);
      if (!req.body || typeof (req.body as NodeJS.ReadableStream).pipe !== 'function') {
        throw new AppError('BAD_INPUT', 'send the file as the raw body with content-type application/octet-stream');
      }
      try {
        return await services.files.upload(q.node, q.name, req.body as NodeJS.ReadableStream & AsyncIterable<Uint8Array>, {
          maxBytes: services.config.uploadMaxBytes,
          ...(q.sha256 ? { expectedSha256: q.sha256 } : {}),
        });
      } catch (err) {
        // Refused before the body was all read (too large, no room): the rest of it is still on its way, so this
        // connection cannot carry another request. Close it after the answer rather than leave the client's next
        // request queued behind an unread body.
        if (!req.raw.complete) void reply.header('connection', 'close');
        throw err;
      }
    },
  );
}
