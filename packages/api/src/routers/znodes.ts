import {
  ZFourLetterInputSchema,
  ZZnodeCreateInputSchema,
  ZZnodeFindInputSchema,
  ZZnodeImportInputSchema,
  ZZnodePathInputSchema,
  ZZnodeRemoveInputSchema,
  ZZnodeSetAclInputSchema,
  ZZnodeSetInputSchema,
  ZZnodeWatchInputSchema,
} from '@zkha/core/schemas';

import { createTRPCRouter, publicProcedure } from '../trpc.ts';

/** The znode explorer: any znode of the ensemble. Viewers read; operators write (zkha's /zkha and /zookeeper need `confirm`). */
export const znodesRouter = createTRPCRouter({
  /** A node's children with their child counts and data sizes. */
  children: publicProcedure.input(ZZnodePathInputSchema).query(({ ctx, input }) => ctx.services.znodes.children(input.path)),
  /** Paths matching a prefix (`/zkha/fe`) or a glob (`*` within a name, `**` across levels). */
  find: publicProcedure.input(ZZnodeFindInputSchema).query(({ ctx, input }) => ctx.services.znodes.find(input)),
  /** A node's data (text, JSON, base64), full stat and ACL. */
  get: publicProcedure.input(ZZnodePathInputSchema).query(({ ctx, input }) => ctx.services.znodes.get(input.path)),
  /** Sets data at the version read: a newer one is refused with the current data. */
  set: publicProcedure.input(ZZnodeSetInputSchema).mutation(({ ctx, input }) => ctx.services.znodes.set(input)),
  create: publicProcedure.input(ZZnodeCreateInputSchema).mutation(({ ctx, input }) => ctx.services.znodes.create(input)),
  /** Deletes at the version read; `recursive` deletes the subtree, counting it first unless `confirm`. */
  remove: publicProcedure.input(ZZnodeRemoveInputSchema).mutation(({ ctx, input }) => ctx.services.znodes.remove(input)),
  setAcl: publicProcedure.input(ZZnodeSetAclInputSchema).mutation(({ ctx, input }) => ctx.services.znodes.setAcl(input)),
  /** Changes of the open node (data, children, created, deleted) and of the open tree levels' children, pushed as ZooKeeper's watches fire. */
  onChange: publicProcedure.input(ZZnodeWatchInputSchema).subscription(async function* ({ ctx, input, signal }) {
    yield* ctx.services.znodes.watch(input.path, signal ?? new AbortController().signal, input.expanded);
  }),
  /** A subtree as JSON (persistent nodes, data as base64, ACLs), for `import`. */
  export: publicProcedure.input(ZZnodePathInputSchema).query(({ ctx, input }) => ctx.services.znodes.exportTree(input.path)),
  /** Imports an export under `into`; `dryRun` (the default) lists what would be created or updated. */
  import: publicProcedure.input(ZZnodeImportInputSchema).mutation(({ ctx, input }) => ctx.services.znodes.importTree(input)),
  /** A server's answer to one read-only four-letter word (srvr, stat, mntr, conf, cons, wchs, envi, ruok, isro, dirs). */
  fourLetter: publicProcedure
    .input(ZFourLetterInputSchema)
    .query(({ ctx, input }) => ctx.services.cluster.fourLetter(input.node, input.command)),
});
