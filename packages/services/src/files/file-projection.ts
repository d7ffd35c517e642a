/**
 * A follower's copy of the file metadata: ZooKeeper (/zkha/files, written by the leader) is the truth, this
 * instance's SQLite `files` table and FileIndex its projection. Read whole at start (`syncAll`), then kept current
 * by the change feed (/zkha/feed: one sequential znode per leader write, applied in order). A follower whose place
 * in the feed was pruned meanwhile (it was away) reads everything again. An instance that becomes leader catches up
 * (`catchUp`) before it acts, so it starts from exactly what ZooKeeper says.
 *
 * A clean stop records where the table stood (a checkpoint: the feed entry it equals the tree as of); the next start
 * applies the feed from there instead of reading every file znode, unless the feed was pruned past it or replaced.
 *
 * Except while the tree is incomplete (its root not marked published: a first publish cut short, or a tree from
 * before the mark): then it is not the whole truth, and a full read adds and updates rows but removes none.
 */
import { countFiles, filesForPlanning, projectFiles, removeFilesExcept, type Db, type ProjectionCheckpoint } from '@zkha/db';
import { isZkError, Rerun, type ZkSession } from '@zkha/zk';

import type { AppEvents } from '../shared/event-bus.ts';
import {
  FEED_PREFIX,
  fromZnode,
  readFeedRootCzxid,
  readFilesRoot,
  ZK_FEED_ROOT,
  ZK_FILES_ROOT,
  type FeedEntry,
  type FileZnode,
} from './file-metadata.ts';
import type { FileIndex } from './file-index.ts';

/**
 * Reads in flight at once when reading everything (the server pipelines them over the one session). Measured on a
 * full read of 100,000 znodes (server-rss bench, (d)): 256 at once took 7.4 s and grew the C heap by ~25 MB that
 * stayed (fragmented by the many buffers of requests in flight), 64 took 6.3 s and ~6 MB: RSS after 216 -> 181 MB.
 */
const READS_AT_ONCE = 64;
/** How soon a pass that failed is tried again. */
const RETRY_MS = 1_000;

/** Whether ZooKeeper's file tree is marked complete (see FilesRootMark), as an instance last saw it. */
export type FileTreeState = 'complete' | 'incomplete' | 'unknown';

/**
 * 'incomplete' while no instance may trim its files to the tree and the leader publishes what it lacks; 'unknown'
 * before the first look, and alone (a standalone instance, no projection, follows no shared tree).
 */
export function fileTreeState(projection: FileProjection | null): FileTreeState {
  return projection?.treeComplete === true ? 'complete' : projection?.treeComplete === false ? 'incomplete' : 'unknown';
}

export class FileProjection {
  /** The last feed entry applied (its znode name); null before the first full read. */
  private last: string | null = null;
  private running = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly passes = new Rerun(() => this.pass());
  /** Full reads, feed entries applied and starts from a checkpoint, for the status figures and tests. */
  readonly stats = { fullReads: 0, entries: 0, lastFullReadMs: 0, resumed: 0 };
  /** Where to start instead of a full read (see resumeFrom); used by the first pass only. */
  private resume: ProjectionCheckpoint | null = null;
  /** The feed root's identity (czxid) as of the last full read or resume: a replaced feed makes a checkpoint void. */
  private feedCzxid: string | null = null;
  /** Whether the last pass failed: the table may then hold part of an entry beyond `last`. */
  private failed = false;
  /**
   * Whether the tree was marked complete at the last full read (or since, by the feed); null before the first.
   * The leader sets it too once it has published the rest and marked the tree (see the container's takeover).
   */
  treeComplete: boolean | null = null;

  /** `onIncomplete`: a full read found the tree incomplete and kept `kept` rows it has no znode for. */
  constructor(
    private readonly deps: {
      session: ZkSession;
      db: Db;
      index: FileIndex;
      events: AppEvents;
      onIncomplete?: (info: { files: number; kept: number }) => void;
    },
  ) {
    deps.session.on('renewed', () => {
      if (this.running) this.kick();
    });
  }

  /**
   * Reads everything, then follows the feed until stop(). A pass that fails (no quorum, a session being replaced)
   * is tried again shortly: resolves after the first pass either way.
   */
  async start(): Promise<void> {
    this.running = true;
    this.last = null;
    await this.run().catch(() => this.retrySoon());
  }

  private retrySoon(): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Applies what the feed holds beyond the last entry applied (everything, read whole, if that is unknown). */
  async catchUp(): Promise<void> {
    await this.run();
  }

  /** Reads everything again, whatever the feed holds. */
  async resync(): Promise<void> {
    this.last = null;
    await this.run();
  }

  private kick(): void {
    void this.run().catch(() => this.retrySoon());
  }

  /** One pass at a time; a change arriving meanwhile runs one more. */
  private run(): Promise<void> {
    return this.passes.run();
  }

  /**
   * Starts the next first pass from a clean stop's checkpoint rather than a full read (null: a full read). The feed
   * entries since are applied; a feed pruned past it, or another feed root (a replaced ensemble), reads everything.
   */
  resumeFrom(checkpoint: ProjectionCheckpoint | null): void {
    this.resume = checkpoint;
  }

  /**
   * What a clean stop records, for a follower: the last entry applied, when the last pass succeeded and none runs.
   * Null otherwise (the next start reads everything).
   */
  checkpoint(): Omit<ProjectionCheckpoint, 'savedAt'> | null {
    if (this.last === null || this.feedCzxid === null || this.failed || this.passes.busy || this.treeComplete === null) return null;
    return { feedCzxid: this.feedCzxid, feedPosition: this.last, treeComplete: this.treeComplete };
  }

  private async pass(): Promise<void> {
    try {
      await this.passOnce();
      this.failed = false;
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private async passOnce(): Promise<void> {
    const client = this.deps.session.client;
    const resume = this.resume;
    this.resume = null;
    // ('' was an empty feed: entries since may have been pruned unseen. Never saved; refused all the same.)
    const resumed =
      this.last === null &&
      resume !== null &&
      resume.feedPosition !== '' &&
      resume.feedCzxid === (await readFeedRootCzxid(this.deps.session.client));
    if (resumed) {
      this.last = resume.feedPosition;
      this.feedCzxid = resume.feedCzxid;
      this.treeComplete = resume.treeComplete;
      this.stats.resumed++;
    }
    const onChange = () => {
      if (this.running) this.kick();
    };
    const kids = (this.running ? await client.watchChildren(ZK_FEED_ROOT, onChange) : await client.children(ZK_FEED_ROOT))
      .filter((k) => k.startsWith(FEED_PREFIX))
      .sort();
    // The feed is pruned oldest first: if our last entry is still there, everything after it is too. ('' is a feed
    // that was empty when everything was read: all its entries are new.)
    if (this.last === null || (this.last !== '' && kids.length > 0 && !kids.includes(this.last) && kids[0]! > this.last)) {
      await this.syncAll(kids.at(-1) ?? null);
      return;
    }
    const due = kids.filter((k) => k > this.last!);
    for (const k of due) {
      let entry: FeedEntry;
      try {
        const { data } = await client.get(`${ZK_FEED_ROOT}/${k}`);
        entry = JSON.parse(data?.toString('utf8') ?? '{}') as FeedEntry;
      } catch (err) {
        if (isZkError(err, 'NO_NODE')) {
          // Pruned between the listing and the read: we are too far behind; read everything.
          await this.syncAll(null);
          return;
        }
        throw err;
      }
      if (entry.published && this.treeComplete !== true) {
        // The tree was just marked complete, and our last full read kept rows it lacked: it is the truth now.
        await this.syncAll(kids.at(-1) ?? null);
        return;
      }
      await this.apply(entry);
      this.last = k;
      this.stats.entries++;
    }
    // From a checkpoint, a last look at the count: a table that differs from a complete tree in its number of files
    // was not its copy after all (changed while stopped): read everything.
    if (resumed && this.treeComplete === true) {
      const inTree = (await client.stat(ZK_FILES_ROOT))?.numChildren ?? 0;
      if (inTree !== countFiles(this.deps.db)) {
        await this.syncAll(kids.at(-1) ?? null);
        return;
      }
    }
    if (due.length > 0) this.deps.events.emit('changed', { kind: 'files' });
  }

  /** Applies one entry: the written files as their znodes say now (a later write only makes them newer). */
  private async apply(entry: FeedEntry): Promise<void> {
    const { db, index } = this.deps;
    const removed = new Set(entry.removed ?? []);
    const read = await this.readZnodes(entry.put ?? []);
    // A file written, then deleted before we read it: its removal is in a later entry; nothing to put now.
    const put = read.filter((z) => !removed.has(z.uuid)).map(fromZnode);
    projectFiles(db, put, { removed: entry.removed ?? [] });
    for (const uuid of entry.removed ?? []) index.remove(uuid);
    for (const f of put) {
      const known = index.get(f.uuid);
      if (!known) index.add(f);
      else if (known.node !== f.node) index.move(f.uuid, f.node, f.history.at(-1)?.action ?? 'migrate');
    }
  }

  /** The current znodes of these files, read a few hundred at a time; those removed meanwhile are left out. */
  private async readZnodes(uuids: readonly string[]): Promise<FileZnode[]> {
    const client = this.deps.session.client;
    const znodes: FileZnode[] = [];
    for (let i = 0; i < uuids.length; i += READS_AT_ONCE) {
      const got = await Promise.all(
        uuids.slice(i, i + READS_AT_ONCE).map((u) =>
          client.getJson<FileZnode>(`${ZK_FILES_ROOT}/${u}`).catch((err: unknown) => {
            if (isZkError(err, 'NO_NODE')) return null; // removed meanwhile: the feed says so too
            throw err;
          }),
        ),
      );
      for (const z of got) if (z) znodes.push(z);
    }
    return znodes;
  }

  /**
   * Reads every file znode and makes the table exactly that. The feed's newest entry is noted before the files are
   * read, so a write landing meanwhile is applied again afterwards (entries are whole records: applying one twice
   * changes nothing).
   *
   * Each few hundred znodes read are written at once and dropped, the rows no znode was read for are removed at the
   * end, and the index is reloaded from the table a page at a time (when the read changed it): 100,000 znodes held whole (and their records, and
   * the index's rows beside them) took ~200 MB of heap at a restart. The table is not swapped in one transaction: a
   * reader meanwhile sees each row as the leader wrote it, now or before (as while following the feed), and a pass
   * that fails halfway is redone whole.
   *
   * Rows are removed only when the tree is marked complete, read before its children: a mark set meanwhile comes
   * with a feed entry, which reads everything again.
   */
  async syncAll(feedHead: string | null): Promise<void> {
    const t0 = performance.now();
    const { db, index } = this.deps;
    this.feedCzxid = await readFeedRootCzxid(this.deps.session.client);
    const { published } = await readFilesRoot(this.deps.session.client);
    const uuids = await this.deps.session.client.children(ZK_FILES_ROOT);
    const seen = new Set<string>();
    let changed = 0;
    for (let i = 0; i < uuids.length; i += READS_AT_ONCE) {
      const znodes = await this.readZnodes(uuids.slice(i, i + READS_AT_ONCE));
      changed += projectFiles(db, znodes.map(fromZnode));
      for (const z of znodes) seen.add(z.uuid);
    }
    if (published) changed += removeFilesExcept(db, seen);
    else this.deps.onIncomplete?.({ files: seen.size, kept: countFiles(db) - seen.size });
    this.treeComplete = published;
    // The index is the table's view, loaded from it at start-up and kept in step by the writers since: when the
    // first full read changes nothing (a restart over the tree it published) it is already right. After feed entries
    // (apply keeps only placement in step) or an earlier full read, it is reloaded whatever the read found.
    if (changed > 0 || this.stats.entries > 0 || this.stats.fullReads > 0) index.load(filesForPlanning(db));
    this.last = feedHead ?? '';
    this.stats.fullReads++;
    this.stats.lastFullReadMs = Math.round(performance.now() - t0);
    this.deps.events.emit('changed', { kind: 'files' });
  }
}
