import { randomUUID } from 'node:crypto';

import { assertKnownNode, type TBulkGenerateInput, type TStressInput, type TaskStatus } from '@zkha/core';
import { countTasksByStatus, createTask, listTasks, updateTaskStatus, type Db } from '@zkha/db';

import type { AppEvents } from '../shared/event-bus.ts';
import type { FilesService } from '../files/files.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { RunResult, SchedulerService } from '../scheduler/scheduler.ts';

export interface GenerateJobResult {
  jobId: string;
  taskId: number;
  /** The pinned node, or null when placement spread the files. */
  node: string | null;
  created: number;
  files: { uuid: string; name: string; node: string }[];
  counts: Record<string, number>;
  scheduler: RunResult | null;
}

/** The "smart scheduling demo tool": pile files on one node, optionally run the scheduler right after. */
export class WorkloadService {
  constructor(
    private readonly deps: {
      db: Db;
      files: FilesService;
      scheduler: SchedulerService;
      operations: OperationsService;
      events: AppEvents;
      nodes: readonly string[];
    },
  ) {}

  /** Piles files on one node: the demo's way to create an imbalance for the scheduler to fix. */
  stress(input: TStressInput): Promise<GenerateJobResult> {
    assertKnownNode(this.deps.nodes, input.node);
    return this.generateJob({
      action: 'stress',
      node: input.node,
      count: input.files,
      sizeKb: input.sizeKb,
      triggerScheduler: input.triggerScheduler,
    });
  }

  /** Creates files on a pinned node, or spread by placement (fewest files first, drained nodes skipped). */
  bulkGenerate(input: TBulkGenerateInput): Promise<GenerateJobResult> {
    const node = input.placement === 'pinned' ? (input.node ?? null) : null;
    if (node !== null) assertKnownNode(this.deps.nodes, node);
    return this.generateJob({
      action: 'bulk_generate',
      node,
      count: input.count,
      sizeKb: input.sizeKb,
      triggerScheduler: input.triggerScheduler,
    });
  }

  private async generateJob(job: {
    action: string;
    node: string | null;
    count: number;
    sizeKb: number;
    triggerScheduler: boolean;
  }): Promise<GenerateJobResult> {
    const { db, events, files, scheduler, operations } = this.deps;
    const jobId = randomUUID();
    const before = files.counts();
    const task = createTask(db, { kind: job.action, ...job, jobId }, 'queued');
    updateTaskStatus(db, task.id, 'running');
    const progress = (kind: 'generate' | 'schedule', done: number, total: number, finished: boolean, message: string) =>
      events.emit('progress', { jobId, kind, done, total, finished, message });
    const details = {
      count: job.count,
      sizeKb: job.sizeKb,
      placement: job.node ?? 'auto',
      triggerScheduler: job.triggerScheduler,
      jobId,
      taskId: task.id,
    };
    try {
      const created = await files.generate({
        count: job.count,
        sizeBytes: job.sizeKb * 1024,
        node: job.node,
        action: job.action,
        onProgress: (done, total) => progress('generate', done, total, false, `created ${done} of ${total} files`),
      });
      progress('generate', created.length, job.count, !job.triggerScheduler, `created ${created.length} files`);
      let schedulerResult: RunResult | null = null;
      if (job.triggerScheduler) {
        progress('schedule', 0, 1, false, 'running the scheduler');
        schedulerResult = await scheduler.run('manual');
        const plan = schedulerResult.executed ? schedulerResult.before : schedulerResult.after;
        progress('schedule', 1, 1, true, plan.message);
      }
      updateTaskStatus(db, task.id, 'done');
      const after = files.counts();
      operations.record({
        action: job.action,
        node: job.node,
        status: 'success',
        details: { ...details, created: created.length, schedulerExecuted: schedulerResult?.executed ?? null },
        beforeMetrics: { counts: before },
        afterMetrics: { counts: after },
      });
      return {
        jobId,
        taskId: task.id,
        node: job.node,
        created: created.length,
        files: created.map((f) => ({ uuid: f.uuid, name: f.name, node: f.node })),
        counts: after,
        scheduler: schedulerResult,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      updateTaskStatus(db, task.id, 'failed');
      progress('generate', 0, job.count, true, `failed: ${message}`);
      operations.record({
        action: job.action,
        node: job.node,
        status: 'failed',
        details: { ...details, error: message },
        beforeMetrics: { counts: before },
        afterMetrics: { counts: files.counts() },
      });
      throw err;
    }
  }

  tasks(opts: { status?: TaskStatus; limit: number }) {
    return listTasks(this.deps.db, opts);
  }

  taskCounts(): Record<string, number> {
    return countTasksByStatus(this.deps.db);
  }
}
