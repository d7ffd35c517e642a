/**
 * Runs a pass one at a time: a call while a pass runs gets that run's promise and makes it go once more after, so
 * a change that arrives mid-pass is never missed and passes never overlap. A pass may also ask for one more itself
 * (`again()`); `more()` may end the repeats early (a stopped owner).
 */
export class Rerun {
  private running: Promise<void> | null = null;
  private pending = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly more: () => boolean = () => true,
  ) {}

  run(): Promise<void> {
    if (this.running) {
      this.pending = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.pending = false;
          await this.pass();
        } while (this.pending && this.more());
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** One more pass after the current one. */
  again(): void {
    this.pending = true;
  }

  get busy(): boolean {
    return this.running !== null;
  }
}
