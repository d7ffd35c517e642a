import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { AppError } from '@zkha/core';
import { createTask, updateTaskStatus, type Db } from '@zkha/db';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { FilesService } from '../files/files.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface DemoWorkloadConfig {
  enabled: boolean;
  intervalSec: number;
  maxFiles: number;
  maxBytes: number;
  minSizeKb: number;
  maxSizeKb: number;
  extraClients: number;
}

export interface DemoWorkloadState extends DemoWorkloadConfig {
  running: boolean;
  ticks: number;
  lastTickAt: string | null;
  filesOwned: number;
  bytesOwned: number;
  clientsHeld: number;
  lastError: string | null;
}

/** Something holding a ZooKeeper session open, so the servers' connection counts move. */
export interface HeldClient {
  close(): Promise<void>;
}

const PREFIX = 'wl-';

/**
 * The demo workload: keeps the console alive the way real traffic would. On an interval with jitter it
 * uploads a few files (now and then all to one "hot" node, so the scheduler has work), walks a task through
 * queued → running → done (sometimes failed), deletes its own oldest files past the file and byte bounds,
 * and holds extra ZooKeeper sessions. It only ever deletes files it created (named `wl-…`).
 */
export class DemoWorkload {
  private config: DemoWorkloadConfig;
  private timer: NodeJS.Timeout | null = null;
  private readonly held: HeldClient[] = [];
  private ticks = 0;
  private lastTickAt: string | null = null;
  private lastError: string | null = null;
  private busy: Promise<void> | null = null;
  private readonly taskTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: {
      db: Db;
      files: FilesService;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      nodes: readonly string[];
      connectClient: () => Promise<HeldClient>;
      random?: () => number;
    },
    initial: DemoWorkloadConfig,
  ) {
    this.config = { ...initial };
  }

  private rand(): number {
    return (this.deps.random ?? Math.random)();
  }

  state(): DemoWorkloadState {
    const owned = this.owned();
    return {
      ...this.config,
      running: this.timer !== null,
      ticks: this.ticks,
      lastTickAt: this.lastTickAt,
      filesOwned: owned.length,
      bytesOwned: owned.reduce((a, f) => a + f.sizeBytes, 0),
      clientsHeld: this.held.length,
      lastError: this.lastError,
    };
  }

  async start(): Promise<DemoWorkloadState> {
    this.config.enabled = true;
    if (!this.timer) this.schedule();
    await this.syncClients();
    this.deps.operations.record({ action: 'workload_start', status: 'success', details: { ...this.config } });
    return this.state();
  }

  async stop(): Promise<DemoWorkloadState> {
    this.config.enabled = false;
    this.halt();
    await this.busy;
    await this.syncClients();
    this.deps.operations.record({ action: 'workload_stop', status: 'success', details: { ticks: this.ticks } });
    return this.state();
  }

  async configure(patch: Partial<Omit<DemoWorkloadConfig, 'enabled'>>): Promise<DemoWorkloadState> {
    const before = { ...this.config };
    const next = { ...this.config, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    if (next.minSizeKb > next.maxSizeKb)
      throw new AppError('BAD_INPUT', `minSizeKb (${next.minSizeKb}) must not exceed maxSizeKb (${next.maxSizeKb})`);
    this.config = next;
    if (this.timer) this.schedule();
    await this.syncClients();
    this.deps.operations.record({
      action: 'workload_config',
      status: 'success',
      details: { patch },
      beforeMetrics: before,
      afterMetrics: { ...this.config },
    });
    return this.state();
  }

  /** Stops timers and releases sessions without recording anything: for shutdown. */
  async close(): Promise<void> {
    this.halt();
    await this.busy;
    for (const t of this.taskTimers) clearTimeout(t);
    await Promise.all(this.held.splice(0).map((c) => c.close().catch(() => undefined)));
  }

  private halt(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.halt();
    // ±30% jitter so the demo does not look like a metronome.
    const delay = this.config.intervalSec * 1000 * (0.7 + 0.6 * this.rand());
    this.timer = setTimeout(() => {
      this.busy = this.tick().finally(() => {
        this.busy = null;
        if (this.timer && this.config.enabled) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private owned() {
    return this.deps.index.list().filter((f) => f.name.startsWith(PREFIX));
  }

  private async syncClients(): Promise<void> {
    const want = this.config.enabled ? this.config.extraClients : 0;
    while (this.held.length > want)
      await this.held
        .pop()!
        .close()
        .catch(() => undefined);
    while (this.held.length < want) {
      try {
        this.held.push(await this.deps.connectClient());
      } catch (err) {
        this.lastError = `extra ZooKeeper session: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
    }
  }

  /** One round of traffic. Public so tests can drive it without waiting for the timer. */
  async tick(): Promise<void> {
    const { nodes, files } = this.deps;
    this.ticks++;
    this.lastTickAt = this.deps.clock.now().toISOString();
    const hot = this.rand() < 0.3 ? nodes[Math.floor(this.rand() * nodes.length)] : undefined;
    const count = 1 + Math.floor(this.rand() * 3);
    const uploaded: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const { minSizeKb, maxSizeKb } = this.config;
        const sizeBytes = Math.round((minSizeKb + this.rand() * (maxSizeKb - minSizeKb)) * 1024);
        if (this.state().bytesOwned + sizeBytes > this.config.maxBytes) break;
        const node = hot ?? files.placementNode(files.counts());
        const name = `${PREFIX}${randomBytes(5).toString('hex')}.bin`;
        const file = await files.upload(node, name, Readable.from(chunks(sizeBytes)), { maxBytes: sizeBytes });
        uploaded.push(`${file.name}@${node}`);
      }
      const removed = await this.cleanup();
      this.walkTask();
      this.lastError = null;
      this.deps.operations.record({
        action: 'workload_tick',
        node: hot ?? null,
        status: 'success',
        details: { uploaded, removed, hotNode: hot ?? null, tick: this.ticks },
      });
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.deps.operations.record({
        action: 'workload_tick',
        node: hot ?? null,
        status: 'failed',
        details: { uploaded, error: this.lastError },
      });
    }
  }

  /** Deletes the workload's own oldest files beyond the file-count and byte bounds. */
  private async cleanup(): Promise<number> {
    const owned = this.owned(); // newest first
    let bytes = owned.reduce((a, f) => a + f.sizeBytes, 0);
    let removed = 0;
    for (let i = owned.length - 1; i >= 0; i--) {
      const keep = i < this.config.maxFiles && bytes <= this.config.maxBytes;
      if (keep) break;
      const f = owned[i]!;
      await this.deps.files.delete(f.uuid);
      bytes -= f.sizeBytes;
      removed++;
    }
    return removed;
  }

  /** A task goes queued → running → done (one in ten fails) over a few seconds, like a job would. */
  private walkTask(): void {
    const { db, events } = this.deps;
    const task = createTask(db, { kind: 'demo', tick: this.ticks }, 'queued');
    const step = (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        this.taskTimers.delete(t);
        try {
          fn();
          events.emit('changed', { kind: 'tasks' });
        } catch {
          // the database closed under us at shutdown
        }
      }, ms);
      t.unref();
      this.taskTimers.add(t);
    };
    step(() => updateTaskStatus(db, task.id, 'running'), 500 + this.rand() * 1000);
    step(() => updateTaskStatus(db, task.id, this.rand() < 0.1 ? 'failed' : 'done'), 2000 + this.rand() * 3000);
  }
}

function* chunks(total: number): Generator<Buffer> {
  for (let left = total; left > 0; left -= 64 * 1024) yield randomBytes(Math.min(left, 64 * 1024));
}
