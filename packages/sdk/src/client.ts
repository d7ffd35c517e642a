/**
 * `@zkha/sdk/client`: everything in `@zkha/sdk` except the zod request schemas, for programs that do not
 * validate locally and would rather not load zod at start-up (the CLI).
 */
import type { AppRouter, inferRouterInputs, inferRouterOutputs } from '@zkha/api';

export {
  createZkhaClient,
  trpcUrl,
  type ZkhaClient,
  type ZkhaClientOptions,
  type ZkhaEventSource,
  type ZkhaFetch,
} from './create-client.ts';
export { connectionErrorCode, isUnknownProcedureError, isZkhaClientError, type ZkhaClientError } from './errors.ts';
export { TRPCClientError, getUntypedClient } from '@trpc/client';

export type { AppRouter };
/** Inputs of every procedure: `RouterInputs['workload']['stress']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Outputs of every procedure: `RouterOutputs['nodes']['list'][number]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type {
  FileRecord,
  NodeAction,
  NodeRuntimeStatus,
  OperationRecord,
  OperationStatus,
  PlanReason,
  QuorumImpact,
  SchedulerPlan,
  TBulkGenerateInput,
  TFileMigrateInput,
  TFilesListInput,
  TMigrationTaskAddInput,
  TMigrationTaskUpdateInput,
  TOperationsListInput,
  TSchedulerConfigPatch,
  TStressInput,
  ZkMode,
  ZkServerStats,
} from '@zkha/core';
