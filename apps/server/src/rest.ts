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
  ZMigrationTaskUpdateInputSchema,
  ZNodeInputSchema,
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

const numericQuery = (v: unknown) => (typeof v === 'string' && v !== '' && /^-?\d+$/.test(v) ? Number(v) : v);

export async function registerRest(app: FastifyInstance, services: Services): Promise<void> {
  app.get('/api/scheduler/diagnostics', async () => services.scheduler.diagnostics());

  // The seed's call takes no body; `{"wait_ms": 0}` (or `?waitMs=0`) returns as soon as the round is queued.
  app.post<{ Querystring: Record<string, unknown> }>('/api/scheduler/run', async (req) => {
    const query = camelKeys(req.query ?? {}) as Record<string, unknown>;
    const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
    const input = ZSchedulerRunInputSchema.parse({ ...(query.waitMs !== undefined ? { waitMs: numericQuery(query.waitMs) } : {}), ...body });
    return services.scheduler.run('manual', input);
  });

  app.get('/api/scheduler/config', async () => services.scheduler.getConfig());

  app.post('/api/files/bulk-generate', async (req) => {
    const raw = camelKeys(requireObject(req.body)) as Record<string, unknown>;
    // The seed's API says "pin" for a pinned node.
    if (raw.placement === 'pin') raw.placement = 'pinned';
    return services.workload.bulkGenerate(ZBulkGenerateInputSchema.parse(raw));
  });

  app.post('/api/demo/stress', async (req) => services.workload.stress(ZStressInputSchema.parse(camelKeys(requireObject(req.body)))));

  app.post<{ Params: { node: string } }>('/api/nodes/:node/drain', async (req) => {
    const body = requireObject(req.body);
    const input = ZDrainInputSchema.parse({ node: req.params.node, ...(body.reason !== undefined ? { reason: body.reason } : {}) });
    const state = services.nodes.drain(input.node, input.reason);
    return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
  });

  app.post<{ Params: { node: string } }>('/api/nodes/:node/undrain', async (req) => {
    const input = ZNodeInputSchema.parse({ node: req.params.node });
    const state = services.nodes.undrain(input.node);
    return { node: state.node, drained: state.drained, reason: state.reason, updated_at: state.updatedAt };
  });

  app.get('/api/nodes', async () => services.nodes.list());

  for (const action of NODE_ACTIONS) {
    app.post<{ Params: { node: string } }>(`/api/nodes/:node/${action}`, async (req) => {
      const input = ZNodeActionInputSchema.parse({ node: req.params.node, action });
      return services.nodes.control(input.node, input.action);
    });
  }

  app.get('/api/stores', async () => services.liveness?.list() ?? []);

  // The zkha instances on this ensemble, which one leads, and the last takeovers (any instance answers).
  app.get('/api/control', async () => services.controlStatus());

  // The znode explorer (the same inputs as tRPC's znodes.*): ?path= for reads, a JSON body for writes.
  app.get<{ Querystring: Record<string, unknown> }>('/api/znodes/children', async (req) => services.znodes.children(ZZnodePathInputSchema.parse(req.query ?? {}).path));
  app.get<{ Querystring: Record<string, unknown> }>('/api/znodes', async (req) => services.znodes.get(ZZnodePathInputSchema.parse(req.query ?? {}).path));
  app.put('/api/znodes', async (req) => services.znodes.set(ZZnodeSetInputSchema.parse(requireObject(req.body))));
  app.post('/api/znodes', async (req) => services.znodes.create(ZZnodeCreateInputSchema.parse(requireObject(req.body))));
  app.delete('/api/znodes', async (req) => services.znodes.remove(ZZnodeRemoveInputSchema.parse(requireObject(req.body))));
  app.put('/api/znodes/acl', async (req) => services.znodes.setAcl(ZZnodeSetAclInputSchema.parse(requireObject(req.body))));
  app.get<{ Querystring: Record<string, unknown> }>('/api/znodes/export', async (req) => services.znodes.exportTree(ZZnodePathInputSchema.parse(req.query ?? {}).path));
  app.post('/api/znodes/import', async (req) => services.znodes.importTree(ZZnodeImportInputSchema.parse(requireObject(req.body))));
  app.get<{ Params: { node: string; command: string } }>('/api/nodes/:node/4lw/:command', async (req) => {
    const input = ZFourLetterInputSchema.parse({ node: req.params.node, command: req.params.command });
    return services.cluster.fourLetter(input.node, input.command);
  });

  app.get('/api/overview', async () => {
    const nodes = await services.nodes.list();
    const summary = services.cluster.summary();
    const plan = services.scheduler.diagnostics();
    return {
      nodes,
      cluster: summary,
      scheduler: { ...services.scheduler.getConfig(), plan },
      totals: { files: plan.totalFiles, tasks: services.workload.taskCounts() },
    };
  });

  app.get('/api/files', async (req) => {
    const q = z.record(z.string(), z.unknown()).parse(req.query ?? {});
    return services.files.list({
      node: typeof q.node === 'string' ? q.node : undefined,
      limit: Math.min(Math.max(Number(numericQuery(q.limit) ?? 50) || 50, 1), 500),
      offset: Math.max(Number(numericQuery(q.offset) ?? 0) || 0, 0),
    });
  });

  app.get('/api/operations', async (req) => {
    const q = Object.fromEntries(Object.entries((req.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, k === 'limit' || k === 'cursor' ? numericQuery(v) : v]));
    return services.operations.list(ZOperationsListInputSchema.parse(q));
  });

  app.post('/api/files/verify', async (req) => {
    const q = z.object({ repair: z.enum(['true', 'false']).default('false') }).parse(req.query ?? {});
    return services.files.verify({ repair: q.repair === 'true' });
  });

  app.get('/api/logs/search', async (req) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    if (!services.logStore) throw new AppError('NOT_SUPPORTED', 'no log store is configured on this server');
    const input = ZLogSearchInputSchema.parse({
      ...(typeof q.q === 'string' ? { text: q.q } : {}),
      ...(typeof q.level === 'string' ? { level: q.level } : {}),
      ...(typeof q.source === 'string' ? { sources: q.source.split(',') } : {}),
      ...(typeof q.from === 'string' ? { from: q.from } : {}),
      ...(typeof q.to === 'string' ? { to: q.to } : {}),
      ...(q.limit !== undefined ? { limit: numericQuery(q.limit) } : {}),
      ...(typeof q.cursor === 'string' ? { cursor: q.cursor } : {}),
    });
    const { cursor, direction: _d, ...query } = input;
    return services.logStore.search({ ...query, ...(cursor ? { cursor } : {}), withTotal: !cursor });
  });

  app.delete<{ Params: { uuid: string } }>('/api/files/:uuid', async (req) => {
    const { uuid } = z.object({ uuid: z.uuid('must be a file uuid') }).parse(req.params);
    return services.files.delete(uuid);
  });

  // One chosen file to one chosen node: `{"target": "zk2"}`; answers the queued task (or why not, coded).
  app.post<{ Params: { id: string } }>('/api/files/:id/migrate', async (req) => {
    const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
    return services.migrationTasks.moveFile(ZFileMigrateInputSchema.parse({ ...body, uuid: req.params.id }));
  });

  // The seed's add_migration_task: `{"uuid", "source", "target", "priority"?, "deadline"?}`.
  app.post('/api/migrations/tasks', async (req) => services.migrationTasks.addTask(ZMigrationTaskAddInputSchema.parse(camelKeys(requireObject(req.body)))));

  // A queued task's priority or deadline: `{"priority"?: 1-10, "deadline"?: ISO | null}`.
  app.patch<{ Params: { id: string } }>('/api/migrations/tasks/:id', async (req) => {
    const body = camelKeys(requireObject(req.body)) as Record<string, unknown>;
    return services.migrationTasks.updateTask(ZMigrationTaskUpdateInputSchema.parse({ ...body, id: numericQuery(req.params.id) }));
  });

  // The seed's get_migration_status.
  app.get('/api/migrations/status', async () => services.migrationTasks.status());

  // A file's bytes, streamed from its node's agent: `curl -o f.bin '/api/files/<uuid>/content'`; one `Range: bytes=a-b`
  // is honoured (206), as the agent serves it.
  app.get<{ Params: { id: string } }>('/api/files/:id/content', async (req, reply) => {
    const range = parseByteRange(req.headers.range);
    const { file, stream } = await services.files.read(z.uuid({ error: 'must be a file uuid' }).parse(req.params.id), range ?? undefined);
    reply
      .code(stream.status)
      .header('content-type', 'application/octet-stream')
      .header('content-length', stream.sizeBytes)
      .header('content-disposition', `attachment; filename="${file.name.replace(/["\\]/g, '_')}"`)
      .header('etag', `"${file.sha256}"`)
      .header('accept-ranges', 'bytes');
    if (stream.status === 206) reply.header('content-range', `bytes ${range!.start}-${range!.start + stream.sizeBytes - 1}/${stream.totalBytes}`);
    return reply.send(stream);
  });

  // Streaming upload: `curl --data-binary @f -H 'content-type: application/octet-stream' '/api/files/upload?node=zk1&name=f.bin'`.
  app.post('/api/files/upload', async (req, reply) => {
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
  });
}
