import type { OperationsService } from '../logs/operations.ts';
import type { FilesService } from './files.ts';

/**
 * After an outage of the quorum, brings ZooKeeper's file metadata back in step with the database (and disk):
 * writes were refused meanwhile, but a write cut off mid-way by the loss can leave a znode behind or missing.
 * A second notice within the delay joins the first.
 */
export class ZkReconciler {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { files: FilesService; operations: OperationsService },
    private readonly delayMs = 1_000,
  ) {}

  /** Reconciles once, shortly (repeated notices within the delay make one run). */
  schedule(cause: string): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run(cause);
    }, this.delayMs);
  }

  async run(cause: string): Promise<void> {
    const { files, operations } = this.deps;
    const started = Date.now();
    try {
      const report = await files.verify({ repair: true });
      operations.record({
        action: 'zk_reconcile',
        status: report.remaining.length === 0 ? 'success' : 'failed',
        details: {
          cause,
          found: report.found.length,
          repaired: report.repaired.length,
          remaining: report.remaining.length,
          durationMs: Date.now() - started,
        },
      });
    } catch (err) {
      operations.record({
        action: 'zk_reconcile',
        status: 'failed',
        details: { cause, error: err instanceof Error ? err.message : String(err) },
      });
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
