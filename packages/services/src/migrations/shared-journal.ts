/**
 * The migration journal every instance can read: what the leader has queued and which batches it has in flight,
 * in ZooKeeper, so that the instance that takes over after the leader dies finishes the plan. Kept small: queued
 * moves in chunk znodes of up to CHUNK_MOVES (written once, rewritten only to drop ended moves, deleted when all
 * have ended), and one znode per batch in flight (created before its first byte moves, deleted once it is settled).
 * Finished moves are not kept here: each instance's own database has the history it saw.
 *
 * Every write checks the leader's election znode in the same multi (the fence), so a deposed leader writes nothing.
 * Per-file truth stays with the file znodes: recovery asks them where each move of a batch stands.
 */
import type { MigrationRecord } from '@zkha/db';
import { isZkError, type ZkSession } from '@zkha/zk';

import { NotLeaderError } from '../files/file-metadata.ts';

export const ZK_MIGRATIONS_ROOT = '/zkha/migrations';
export const ZK_QUEUE_ROOT = `${ZK_MIGRATIONS_ROOT}/queue`;
export const ZK_BATCHES_ROOT = `${ZK_MIGRATIONS_ROOT}/batches`;
/** Moves per queue chunk: ~200 bytes each, far below a znode's 1 MiB. */
const CHUNK_MOVES = 1000;

/** One queued move as the shared journal keeps it: enough to queue it again elsewhere. */
export interface SharedMove {
  planId: string;
  uuid: string;
  name: string;
  from: string;
  to: string;
  bytes: number;
  sha256: string;
  priority: number;
  deadline: string | null;
  reason: string | null;
  origin: MigrationRecord['origin'];
}

export interface SharedBatch {
  path: string;
  source: string;
  target: string;
  moves: SharedMove[];
}

export const moveKey = (m: { planId: string; uuid: string }) => `${m.planId}/${m.uuid}`;

export function sharedMove(r: MigrationRecord): SharedMove {
  return {
    planId: r.planId,
    uuid: r.uuid,
    name: r.name,
    from: r.source,
    to: r.target,
    bytes: r.bytes,
    sha256: r.sha256,
    priority: r.priority,
    deadline: r.deadline,
    reason: r.reason,
    origin: r.origin,
  };
}

export class SharedMigrationJournal {
  /** Queue chunks this instance knows of, with the moves each still holds. */
  private readonly chunks = new Map<string, SharedMove[]>();
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: ZkSession,
    private readonly fence: () => string | null,
  ) {}

  private get zk() {
    return this.session.client;
  }

  private fenced(): string {
    const f = this.fence();
    if (f === null) throw new NotLeaderError();
    return f;
  }

  async init(): Promise<void> {
    await this.zk.mkdirp(ZK_QUEUE_ROOT);
    await this.zk.mkdirp(ZK_BATCHES_ROOT);
  }

  /** Queues moves for every instance to see (in order, after any earlier call's). */
  planned(rows: readonly MigrationRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const moves = rows.map(sharedMove);
    const next = this.writes.then(async () => {
      for (let i = 0; i < moves.length; i += CHUNK_MOVES) {
        const chunk = moves.slice(i, i + CHUNK_MOVES);
        const results = await this.zk
          .transaction()
          .check(this.fenced())
          .create(`${ZK_QUEUE_ROOT}/q-`, JSON.stringify(chunk), 'persistent_sequential')
          .commit();
        const created = results[1]?.path;
        if (created) this.chunks.set(created, chunk);
      }
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** A batch is about to move bytes: its moves, named before the first byte moves. Returns its znode. */
  async batchStarted(source: string, target: string, rows: readonly MigrationRecord[]): Promise<string> {
    await this.writes; // its moves' queue chunk first
    const data = JSON.stringify({ source, target, moves: rows.map(sharedMove) });
    const results = await this.zk
      .transaction()
      .check(this.fenced())
      .create(`${ZK_BATCHES_ROOT}/b-`, data, 'persistent_sequential')
      .commit();
    return results[1]!.path!;
  }

  /** The batch is settled (every move completed or taken back): forget it. */
  async batchEnded(path: string): Promise<void> {
    try {
      await this.zk.transaction().check(this.fenced()).remove(path).commit();
    } catch (err) {
      if (!isZkError(err, 'NO_NODE') && !(err instanceof NotLeaderError)) throw err;
    }
  }

  /**
   * Drops moves that have ended (completed, failed, cancelled: `ended` says which) from the queue chunks: a chunk
   * left empty is deleted, one that shrank is rewritten. Chunks written by an earlier leader are read first.
   */
  async prune(ended: (m: SharedMove) => boolean): Promise<{ chunks: number; moves: number }> {
    const fence = this.fenced();
    if (this.chunks.size === 0) for (const [path, moves] of await this.readChunks()) this.chunks.set(path, moves);
    let moves = 0;
    for (const [path, chunk] of this.chunks) {
      const left = chunk.filter((m) => !ended(m));
      if (left.length === chunk.length) continue;
      moves += left.length;
      try {
        if (left.length === 0) await this.zk.transaction().check(fence).remove(path).commit();
        else await this.zk.transaction().check(fence).set(path, JSON.stringify(left)).commit();
      } catch (err) {
        if (!isZkError(err, 'NO_NODE')) throw err;
      }
      if (left.length === 0) this.chunks.delete(path);
      else this.chunks.set(path, left);
    }
    return { chunks: this.chunks.size, moves };
  }

  /** Everything in the shared journal: the queued moves (oldest chunk first) and the batches in flight. */
  async load(): Promise<{ queued: SharedMove[]; batches: SharedBatch[] }> {
    this.chunks.clear();
    for (const [path, moves] of await this.readChunks()) this.chunks.set(path, moves);
    const batches: SharedBatch[] = [];
    for (const k of (await this.zk.children(ZK_BATCHES_ROOT)).sort()) {
      const path = `${ZK_BATCHES_ROOT}/${k}`;
      const b = await this.zk.getJson<Omit<SharedBatch, 'path'>>(path).catch(() => null);
      if (b && Array.isArray(b.moves)) batches.push({ path, source: b.source, target: b.target, moves: b.moves });
    }
    return { queued: [...this.chunks.values()].flat(), batches };
  }

  private async readChunks(): Promise<[string, SharedMove[]][]> {
    const out: [string, SharedMove[]][] = [];
    for (const k of (await this.zk.children(ZK_QUEUE_ROOT)).sort()) {
      const path = `${ZK_QUEUE_ROOT}/${k}`;
      const moves = await this.zk.getJson<SharedMove[]>(path).catch(() => null);
      if (Array.isArray(moves)) out.push([path, moves]);
    }
    return out;
  }

  /** Forgets what this instance knew (it no longer leads; the next leader reads the znodes). */
  reset(): void {
    this.chunks.clear();
    this.writes = Promise.resolve();
  }
}
