import type { FileRecord } from '@zkha/core';
import { isZkError, type ZkSession } from '@zkha/zk';

export const ZK_ROOT = '/zkha';
export const ZK_FILES_ROOT = `${ZK_ROOT}/files`;
/**
 * The change feed: every write of file metadata adds, in the same multi, one sequential znode here holding what it
 * wrote, so the other instances (followers) apply the changes in commit order without watching 10,000 znodes.
 * The leader prunes the oldest (pruneFeed); a follower that finds its place pruned reads everything again.
 */
export const ZK_FEED_ROOT = `${ZK_ROOT}/feed`;
export const FEED_PREFIX = 'c-';

/**
 * One feed entry: the uuids of the file znodes written (a follower reads them: the entry stays small, so the
 * leader's multis do not carry every record twice), or the uuids removed.
 */
export interface FeedEntry {
  put?: string[];
  removed?: string[];
  /** The tree was just marked complete (markPublished): a follower that kept rows it lacked reads it again. */
  published?: true;
}

/**
 * Sets per ZooKeeper multi-op. A multi is one request, capped by jute.maxbuffer (1 MiB by default) and a znode
 * here is about half a KiB; 64 keeps it far from the cap and, measured against the test ensemble, 6,662 sets
 * took ~0.3 s in multis of 16-64 sent together, against ~1.4 s as single pipelined sets.
 */
const MULTI_OPS = 64;
/** Multis a bulk write keeps in flight: enough to fill the pipe to the ensemble, few enough to bound memory. */
const MULTIS_AT_ONCE = 8;

/**
 * The files root's data once a first publish has put every record in the tree (see markPublished). Without it
 * the tree is incomplete: a publish cut short (ZooKeeper out of memory, the instance killed, its session expired)
 * left part of the records, or the tree is from before the mark; nobody trims a database to such a tree. The
 * mark is the root's own data, not a znode beside it: whatever removes the tree removes its mark with it.
 */
export interface FilesRootMark {
  /** When the mark was set. */
  published: string;
  /** File znodes in the tree then (for the operator: the tree changes afterwards). */
  files: number;
}

/** Whether the files tree is marked complete, and the file znodes it holds now (its root's stat). */
export async function readFilesRoot(client: ZkSession['client']): Promise<{ published: boolean; files: number }> {
  try {
    const { data, stat } = await client.read(ZK_FILES_ROOT);
    return { published: isMark(data), files: stat.numChildren };
  } catch (err) {
    if (isZkError(err, 'NO_NODE')) return { published: false, files: 0 };
    throw err;
  }
}

/**
 * The change feed root's identity (its czxid), null when it does not exist: a feed root deleted and made again (a
 * replaced ensemble, a wiped tree) has another, and a position in the old feed means nothing in the new one.
 */
export async function readFeedRootCzxid(client: ZkSession['client']): Promise<string | null> {
  return (await client.stat(ZK_FEED_ROOT))?.czxid ?? null;
}

function isMark(data: Buffer): boolean {
  if (data.length === 0) return false;
  try {
    return typeof (JSON.parse(data.toString('utf8')) as Partial<FilesRootMark>).published === 'string';
  } catch {
    return false;
  }
}

/** A leader's write refused: this instance does not lead (any more). */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor() {
    super('this zkha instance does not lead the control plane (any more): the write was not made');
  }
}

/** What the znode `/zkha/files/<uuid>` holds: enough for another consumer to find and check the file. */
export interface FileZnode {
  uuid: string;
  name: string;
  node: string;
  path: string;
  size: number;
  checksum: string;
  history: FileRecord['history'];
  updatedAt: string;
  /** Absent in znodes written before the feed (their first history entry, else updatedAt, stands in). */
  createdAt?: string;
}

export function toZnode(file: FileRecord): FileZnode {
  return {
    uuid: file.uuid,
    name: file.name,
    node: file.node,
    path: file.path,
    size: file.sizeBytes,
    checksum: file.sha256,
    history: file.history,
    updatedAt: file.updatedAt,
    createdAt: file.createdAt,
  };
}

/** The file row a znode describes (the inverse of toZnode). */
export function fromZnode(z: FileZnode): FileRecord {
  const history = Array.isArray(z.history) ? z.history : [];
  return {
    uuid: z.uuid,
    name: z.name,
    node: z.node,
    path: z.path,
    sizeBytes: z.size,
    sha256: z.checksum,
    history,
    updatedAt: z.updatedAt,
    createdAt: z.createdAt ?? history[0]?.at ?? z.updatedAt,
  };
}

/** File metadata registered in ZooKeeper, kept in step with the database by the services that change files. */
export class FileMetadataRegistry {
  /**
   * Whether a write failed since this instance started: the database, written first, may then hold changes the tree
   * lacks (until a reconcile), so a clean stop records no projection checkpoint (see FileProjection.checkpoint).
   */
  writeFailed = false;

  /**
   * `fence`, under leader election: the leader's election znode, checked in the same multi as every write, so
   * a deposed leader (paused past its session timeout, its session since renewed) cannot write; null when this
   * instance does not lead. Absent for a standalone instance.
   */
  constructor(
    private readonly session: ZkSession,
    private readonly fence?: () => string | null,
  ) {}

  /** Runs a write, noting a failure (see writeFailed). */
  private async noting(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.writeFailed = true;
      throw err;
    }
  }

  /** Where the change feed stands now: its root's identity (czxid) and its newest entry ('' when empty). */
  async feedHead(): Promise<{ czxid: string; position: string } | null> {
    const czxid = await readFeedRootCzxid(this.zk);
    if (czxid === null) return null;
    const kids = (await this.zk.children(ZK_FEED_ROOT)).filter((k) => k.startsWith(FEED_PREFIX)).sort();
    return { czxid, position: kids.at(-1) ?? '' };
  }

  /** The fence to check, or undefined without one; throws when this instance does not lead. */
  private fenced(): string | undefined {
    if (!this.fence) return undefined;
    const f = this.fence();
    if (f === null) throw new NotLeaderError();
    return f;
  }

  /** The current client: after a session expiry the session hands out a new one. */
  private get zk() {
    return this.session.client;
  }

  async init(): Promise<void> {
    await this.zk.mkdirp(ZK_FILES_ROOT);
    await this.zk.mkdirp(ZK_FEED_ROOT);
  }

  /** One file's znode, created or replaced, with its feed entry, in one multi. */
  async put(file: FileRecord): Promise<void> {
    return this.noting(() => this.writePut(file));
  }

  private async writePut(file: FileRecord): Promise<void> {
    const fence = this.fenced();
    const path = `${ZK_FILES_ROOT}/${file.uuid}`;
    const z = toZnode(file);
    const data = JSON.stringify(z);
    // Created or set: a multi cannot say "either", so look first; a race (NODE_EXISTS / NO_NODE) looks again.
    for (let attempt = 0; ; attempt++) {
      const tx = this.zk.transaction();
      if (fence !== undefined) tx.check(fence);
      if (await this.zk.exists(path)) tx.set(path, data);
      else tx.create(path, data);
      tx.create(`${ZK_FEED_ROOT}/${FEED_PREFIX}`, JSON.stringify({ put: [z.uuid] } satisfies FeedEntry), 'persistent_sequential');
      try {
        await tx.commit();
        return;
      } catch (err) {
        if (fence !== undefined && !(await this.zk.exists(fence).catch(() => true))) throw new NotLeaderError();
        if (attempt >= 2 || !(isZkError(err, 'NODE_EXISTS') || isZkError(err, 'NO_NODE'))) throw err;
      }
    }
  }

  /**
   * Writes many files' znodes with few round trips: ZooKeeper multi-ops of up to MULTI_OPS sets, all sent at
   * once over the one session (the server pipelines them). A multi is all or nothing, so when one fails (a znode
   * that does not exist yet, say) its files are written one by one with `put`, which creates what is missing.
   */
  /**
   * Writes many files' znodes, MULTI_OPS to a multi and MULTIS_AT_ONCE multis in flight (never all of them: a
   * publish of 100,000 records once held 1,500 multis and their payloads in memory at the same time). `create`
   * when the znodes are known not to exist yet (a first publish), `set` otherwise; a multi that fails on a
   * znode that is there or not is redone one file at a time.
   */
  async putMany(files: readonly FileRecord[], opts: { create?: boolean } = {}): Promise<void> {
    return this.noting(() => this.writePutMany(files, opts));
  }

  private async writePutMany(files: readonly FileRecord[], opts: { create?: boolean } = {}): Promise<void> {
    const fence = this.fenced();
    const writeChunk = async (chunk: readonly FileRecord[]) => {
      if (chunk.length === 1) return this.put(chunk[0]!);
      const tx = this.zk.transaction();
      if (fence !== undefined) tx.check(fence);
      const znodes = chunk.map(toZnode);
      for (const z of znodes) {
        if (opts.create) tx.create(`${ZK_FILES_ROOT}/${z.uuid}`, JSON.stringify(z));
        else tx.set(`${ZK_FILES_ROOT}/${z.uuid}`, JSON.stringify(z));
      }
      tx.create(
        `${ZK_FEED_ROOT}/${FEED_PREFIX}`,
        JSON.stringify({ put: znodes.map((z) => z.uuid) } satisfies FeedEntry),
        'persistent_sequential',
      );
      try {
        await tx.commit();
      } catch (err) {
        if (!isZkError(err)) throw err; // no quorum, timeout: the caller retries the whole batch
        for (const f of chunk) await this.put(f);
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const start = next;
        next += MULTI_OPS;
        await writeChunk(files.slice(start, start + MULTI_OPS));
      }
    };
    await Promise.all(Array.from({ length: Math.min(MULTIS_AT_ONCE, Math.ceil(files.length / MULTI_OPS)) }, worker));
  }

  /**
   * Marks the tree complete (see FilesRootMark), with a feed entry saying so, in one fenced multi. Only once every
   * record of a first publish is in the tree: putMany keeps several multis in flight, so the mark waits for all
   * of them rather than riding with the last one sent.
   */
  async markPublished(files: number): Promise<void> {
    return this.noting(() => this.writeMark(files));
  }

  private async writeMark(files: number): Promise<void> {
    const fence = this.fenced();
    const tx = this.zk.transaction();
    if (fence !== undefined) tx.check(fence);
    tx.set(ZK_FILES_ROOT, JSON.stringify({ published: new Date().toISOString(), files } satisfies FilesRootMark));
    tx.create(`${ZK_FEED_ROOT}/${FEED_PREFIX}`, JSON.stringify({ published: true } satisfies FeedEntry), 'persistent_sequential');
    await tx.commit();
  }

  async get(uuid: string): Promise<FileZnode | null> {
    const path = `${ZK_FILES_ROOT}/${uuid}`;
    if (!(await this.zk.exists(path))) return null;
    return this.zk.getJson<FileZnode>(path);
  }

  async remove(uuid: string): Promise<void> {
    return this.noting(() => this.writeRemove(uuid));
  }

  private async writeRemove(uuid: string): Promise<void> {
    const fence = this.fenced();
    const path = `${ZK_FILES_ROOT}/${uuid}`;
    if (!(await this.zk.exists(path))) return;
    const tx = this.zk.transaction();
    if (fence !== undefined) tx.check(fence);
    tx.remove(path).create(
      `${ZK_FEED_ROOT}/${FEED_PREFIX}`,
      JSON.stringify({ removed: [uuid] } satisfies FeedEntry),
      'persistent_sequential',
    );
    try {
      await tx.commit();
    } catch (err) {
      if (isZkError(err, 'NO_NODE') && !(await this.zk.exists(path))) return; // removed meanwhile
      throw err;
    }
  }

  /**
   * Deletes the oldest feed entries beyond the newest `keep` (the leader, now and then). Followers further behind
   * than that read everything again (FileProjection).
   */
  async pruneFeed(keep: number): Promise<number> {
    const kids = (await this.zk.children(ZK_FEED_ROOT)).filter((k) => k.startsWith(FEED_PREFIX)).sort();
    const old = kids.slice(0, Math.max(0, kids.length - keep));
    for (let i = 0; i < old.length; i += MULTI_OPS) {
      const tx = this.zk.transaction();
      for (const k of old.slice(i, i + MULTI_OPS)) tx.remove(`${ZK_FEED_ROOT}/${k}`);
      await tx.commit().catch(() => undefined); // pruned by another leader meanwhile: next time
    }
    return old.length;
  }

  async list(): Promise<string[]> {
    return this.zk.children(ZK_FILES_ROOT);
  }
}
