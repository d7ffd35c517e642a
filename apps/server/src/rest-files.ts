/**
 * The seed's file routes: the list, the checksum check, delete and move, and the bytes both ways (download with
 * one Range, streaming upload). Separate registrars because rest.ts registers them between other domains' routes.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { AppError } from '@zkha/core';
import { ZFileIdSchema, ZFileMigrateInputSchema, ZNodeNameSchema, ZUploadFieldsSchema } from '@zkha/core/schemas';
import type { Services } from '@zkha/services';

import { describeRoute as doc } from './openapi.ts';
import { camelKeys, numericQuery, requireObject } from './rest-input.ts';

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
const FilesQuery = z.object({
  node: ZNodeNameSchema.optional(),
  limit: z.number().int().min(1).max(500).default(50),
  offset: z.number().int().min(0).default(0),
});
const VerifyQuery = z.object({ repair: z.enum(['true', 'false']).default('false') });

function registerFileListRoute(app: FastifyInstance, services: Services): void {
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
}

function registerFileVerifyRoute(app: FastifyInstance, services: Services): void {
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
}

/** Deleting a file and moving one to a chosen node. */
function registerFileChangeRoutes(app: FastifyInstance, services: Services): void {
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
}

/** A file's bytes, streamed both ways: the download and the upload. */
function registerFileBytesRoutes(app: FastifyInstance, services: Services): void {
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

/** The files: list, verify, delete and migrate one, and its bytes (download, upload). */
export function registerFileRoutes(app: FastifyInstance, services: Services): void {
  registerFileListRoute(app, services);
  registerFileVerifyRoute(app, services);
  registerFileChangeRoutes(app, services);
  registerFileBytesRoutes(app, services);
}
