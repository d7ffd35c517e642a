/**
 * Values pushed by callbacks (ZooKeeper watches, a log store's listeners), read in order by one async
 * generator until its signal aborts: what a subscription built on callbacks consumes. Nothing pushed between
 * two reads is lost.
 */
export class PushQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | null = null;

  push(...values: T[]): void {
    this.items.push(...values);
    this.wake?.();
  }

  async *drain(signal: AbortSignal | undefined): AsyncGenerator<T> {
    while (!signal?.aborted) {
      if (this.items.length === 0) {
        await new Promise<void>((resolve) => {
          const onAbort = () => resolve();
          this.wake = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        this.wake = null;
        continue;
      }
      yield this.items.shift()!;
    }
  }
}
