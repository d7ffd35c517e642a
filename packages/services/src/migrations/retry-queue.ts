import type { MigrationRecord } from '@zkha/db';

/**
 * Journal rows owed work that needs an agent (or ZooKeeper) to answer: retried on a timer until `work` reports none
 * left. Rows stay in the queue while they are worked on, so `has` and `size` hold throughout; `work` returns those
 * still owed, or throws to keep them all. Runs only between start() and stop().
 */
export class RetryQueue {
  private readonly rows = new Map<number, MigrationRecord>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly work: (rows: MigrationRecord[]) => Promise<readonly MigrationRecord[]>,
    private readonly delayMs: number,
    private readonly after: () => void,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  has(id: number): boolean {
    return this.rows.has(id);
  }

  delete(id: number): void {
    this.rows.delete(id);
  }

  /** Queues rows (a newer version of a row replaces the older) and schedules a try. */
  add(rows: readonly MigrationRecord[]): void {
    for (const r of rows) this.rows.set(r.id, r);
    this.schedule(this.delayMs);
  }

  start(delayMs = this.delayMs): void {
    this.running = true;
    this.schedule(delayMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.timer || !this.running || this.rows.size === 0) return;
    this.timer = setTimeout(() => {
      const due = [...this.rows.values()];
      void this.work(due)
        .then((left) => {
          const still = new Set(left.map((r) => r.id));
          for (const r of due) if (!still.has(r.id) && this.rows.get(r.id) === r) this.rows.delete(r.id);
          for (const r of left) this.rows.set(r.id, r);
        })
        .catch(() => undefined)
        .finally(() => {
          this.timer = null;
          this.schedule(this.delayMs);
          this.after();
        });
    }, delayMs);
    this.timer.unref();
  }
}

/** Items by key, in their order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}
