/**
 * A steady write load for tests and benchmarks of membership changes and restarts: one session on
 * every server of a connection string creating persistent znodes one after another, remembering
 * which creates succeeded (they must survive anything the ensemble goes through) and when, so the
 * longest stretch without a successful write (the write unavailability window) can be measured
 * for any interval.
 *
 * Znodes go under `<root>/<segment>/w<seq>`, one segment per step of a test (`segment()`), which
 * keeps each parent's child list well under ZooKeeper's 1 MiB packet limit.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient, isZkError } from './client.ts';

export interface WriteLoadOptions {
  root?: string;
  /** Pause between two writes, ms; leaves CPU to the servers on a small machine. Default 2. */
  pauseMs?: number;
  sessionTimeout?: number;
}

export class WriteLoad {
  /** Paths of creates that returned success, in order. */
  readonly committed: string[] = [];
  /** Creates that failed: their outcome is unknown (connection loss, timeout), they may or may not exist. */
  readonly failures: { path: string; error: string }[] = [];
  /** performance.now() of each success, parallel to `committed`. */
  private readonly okAt: number[] = [];
  private seq = 0;
  private current = 's0';
  private running = true;
  private loop: Promise<void>;

  private constructor(
    readonly client: ZkClient,
    private readonly root: string,
    private readonly pauseMs: number,
  ) {
    this.loop = this.run();
  }

  /** Connects (session over every server of `connectionString`), prepares the root and starts writing. */
  static async start(connectionString: string, opts: WriteLoadOptions = {}): Promise<WriteLoad> {
    const client = await ZkClient.connect(connectionString, {
      sessionTimeout: opts.sessionTimeout ?? 10_000,
      operationTimeoutMs: 5000,
      spinDelay: 50,
    });
    const root = opts.root ?? '/write-load';
    await client.mkdirp(`${root}/s0`);
    return new WriteLoad(client, root, opts.pauseMs ?? 2);
  }

  /** Starts a new segment (parent znode) for the writes that follow; retries for up to `timeoutMs`. */
  async segment(name: string, timeoutMs = 30_000): Promise<void> {
    const parent = `${this.root}/${name}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.client.mkdirp(parent);
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await sleep(50);
      }
    }
    this.current = name;
  }

  /** Timestamp (performance.now()) to pass to windowMs. */
  now(): number {
    return performance.now();
  }

  /**
   * Longest stretch in [from, to] without a successful write, ms: the gaps between successes,
   * counting from the last success before `from` and up to `to`.
   */
  windowMs(from: number, to: number = performance.now()): number {
    let prev: number | null = null;
    let longest = 0;
    for (const t of this.okAt) {
      if (t < from) {
        prev = t;
        continue;
      }
      if (t > to) break;
      longest = Math.max(longest, t - (prev ?? from));
      prev = t;
    }
    longest = Math.max(longest, to - (prev ?? from));
    return Math.round(longest);
  }

  /**
   * Committed writes missing from what `client` sees, by listing every segment's children. An empty
   * result means every write that returned success is there.
   */
  async missing(client: ZkClient): Promise<string[]> {
    const byParent = new Map<string, string[]>();
    for (const p of this.committed) {
      const idx = p.lastIndexOf('/');
      const parent = p.slice(0, idx);
      const list = byParent.get(parent) ?? [];
      list.push(p.slice(idx + 1));
      byParent.set(parent, list);
    }
    const missing: string[] = [];
    for (const [parent, kids] of byParent) {
      let present: Set<string>;
      try {
        present = new Set(await client.children(parent));
      } catch (err) {
        if (!isZkError(err, 'NO_NODE')) throw err;
        present = new Set();
      }
      for (const k of kids) if (!present.has(k)) missing.push(`${parent}/${k}`);
    }
    return missing;
  }

  /** Stops writing (waits for the write in flight) and closes the session. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const path = `${this.root}/${this.current}/w${this.seq++}`;
      try {
        await this.client.create(path, 'x');
        this.committed.push(path);
        this.okAt.push(performance.now());
      } catch (err) {
        this.failures.push({ path, error: err instanceof Error ? err.message : String(err) });
        // Not a hot loop while the ensemble is away.
        await sleep(20);
      }
      if (this.pauseMs > 0) await sleep(this.pauseMs);
    }
  }
}
