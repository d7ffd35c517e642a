import type { AppEvents } from '../shared/event-bus.ts';
import type { MigrationProgress } from './reports.ts';
import './events.ts';

/** What the engine tells the bus: files moved ('changed') and the queue's progress ('migrations'), each debounced. */
export class MigrationNotices {
  constructor(
    private readonly events: AppEvents,
    private readonly engine: { stopped: () => boolean; progress: () => MigrationProgress },
  ) {}

  private changedTimer: NodeJS.Timeout | null = null;
  private changedAgain = false;
  /**
   * Files moved: the re-planner and the UI hear of it at once, then at most five times a second however many
   * batches finish (each notice makes the server re-plan over every file).
   */
  filesChanged(): void {
    if (this.changedTimer) {
      this.changedAgain = true;
      return;
    }
    this.events.emit('changed', { kind: 'files' });
    this.changedTimer = setTimeout(() => {
      this.changedTimer = null;
      if (this.changedAgain) {
        this.changedAgain = false;
        this.filesChanged();
      }
    }, 200);
    this.changedTimer.unref();
  }

  private progressTimer: NodeJS.Timeout | null = null;
  progress(): void {
    // Nobody subscribed: the progress of thousands of queued tasks is not worth computing ten times a second
    // (a new subscriber reads progress() first, then follows these events).
    if (this.progressTimer || this.engine.stopped() || this.events.listenerCount('migrations') === 0) return;
    // At most ten progress events a second, however many chunks are copied.
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      this.events.emit('migrations', this.engine.progress());
    }, 100);
    this.progressTimer.unref();
  }

  /** Cancels the progress event due (the engine is stopping: its running batches are being aborted). */
  holdProgress(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
  }

  /** The engine stopped: a pending 'changed' goes out now, and no timer is left. */
  flush(): void {
    if (this.changedTimer) clearTimeout(this.changedTimer);
    this.changedTimer = null;
    if (this.changedAgain) this.events.emit('changed', { kind: 'files' });
    this.changedAgain = false;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
  }
}
