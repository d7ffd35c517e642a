/** The znode explorer's inputs: paths, data, ACLs, versions, search, watch, writes, four-letter words, export/import. */
import { z } from 'zod';

import { ZNodeNameSchema } from './shared.ts';

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
