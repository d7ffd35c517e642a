/**
 * The file metadata under election: a new leader first makes its database say what ZooKeeper says, and then
 * prunes the change feed now and then while it leads; a clean stop leaves a checkpoint the next start resumes from.
 */
import { pagesOfFiles, saveProjectionCheckpoint, takeProjectionCheckpoint, type Db } from '@zkha/db';
import type { ZkSession } from '@zkha/zk';

import type { OperationsService } from '../logs/operations.ts';
import type { FileIndex } from './file-index.ts';
import { readFilesRoot, type FileMetadataRegistry } from './file-metadata.ts';
import type { FileProjection } from './file-projection.ts';

/** Feed entries kept (each up to 64 files' metadata), and how often the leader prunes the rest. */
const FEED_KEEP = 500;
const FEED_PRUNE_MS = 10_000;
/** Records read from SQLite per putMany of a first publish (putMany keeps 8 multis of 64 in flight: 8 rounds). */
const PUBLISH_PAGE = 4096;

/**
 * Before a new leader acts, its database says what ZooKeeper says, once the tree is marked complete. Until then
 * (a first publish cut short, or a tree from before the mark) it publishes the union first: creates the znodes of
 * its records the tree lacks, deletes nothing, marks the tree, and only then reads it back.
 */
export async function alignFilesWithZooKeeper(deps: {
  session: ZkSession;
  db: Db;
  index: FileIndex;
  metadata: FileMetadataRegistry;
  projection: FileProjection;
  operations: OperationsService;
}): Promise<void> {
  const { session, db, index, metadata, projection, operations } = deps;
  // The mark and the count from the root: the 100,000 names themselves are read only by the steps that need them.
  const root = await readFilesRoot(session.client);
  // A tree with no file znodes at all beside a database with files is published, marked or not, as before the
  // mark: a deployment from before the shared state, not one whose every file was deleted.
  if (root.published && !(root.files === 0 && index.size > 0)) {
    await projection.catchUp();
    return;
  }
  projection.treeComplete = false;
  // Nothing is deleted here, and the mark comes last: a publish cut short again leaves a tree still unmarked, which
  // the next leader completes the same way. The names in the tree, held as a set while publishing (~10 MB at 100k).
  const inTree = root.files > 0 ? new Set(await metadata.list()) : null;
  let created = 0;
  // A page at a time: 100,000 records with their histories held at once were ~60 MB of heap at the peak.
  for (const page of pagesOfFiles(db, PUBLISH_PAGE)) {
    const missing = inTree ? page.filter((f) => !inTree.has(f.uuid)) : page;
    if (missing.length > 0) await metadata.putMany(missing, { create: true });
    created += missing.length;
  }
  const files = (inTree?.size ?? 0) + created;
  await metadata.markPublished(files);
  projection.treeComplete = true;
  operations.record({
    action: 'zk_publish_files',
    status: 'success',
    details: {
      files,
      created,
      found: root.files,
      why:
        root.files === 0
          ? "ZooKeeper held no file metadata: published this instance's"
          : "the file tree was not marked complete (a first publish cut short, or a tree from before the mark): published what it lacked of this instance's, removed nothing",
    },
  });
  // The tree held records this database may lack (published by another instance): read them in. Nothing it had
  // is removed, as every record here is in the tree now.
  if (inTree) await projection.resync();
}

/** The change feed's oldest entries go now and then while this instance leads; followers further behind read everything again. */
export class FeedPruner {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly metadata: FileMetadataRegistry) {}

  start(): void {
    this.timer = setInterval(() => void this.metadata.pruneFeed(FEED_KEEP).catch(() => undefined), FEED_PRUNE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * The projection's checkpoint across a clean stop (see FileProjection): 100,000 file znodes read back at every
 * restart took 10-16 s and left ~40 MB of memory behind. The leader's table is the tree as of the feed's head while
 * it still leads (its own writes after that are in both, and no one else writes meanwhile); a follower's is the tree
 * as of the last entry it applied. None is saved when a metadata write failed since start (the table, written first,
 * may hold what the tree lacks), and one is taken at start whether or not it is used: it serves one start at most.
 */
export class ProjectionCheckpoints {
  private leaderHead: { czxid: string; position: string } | null = null;

  constructor(private readonly deps: { db: Db; metadata: FileMetadataRegistry; projection: FileProjection; now: () => Date }) {}

  /** At init, before the projection's first pass (a second init finds none left and keeps the first's). */
  restore(): void {
    const cp = takeProjectionCheckpoint(this.deps.db);
    if (cp) this.deps.projection.resumeFrom(cp);
  }

  /** First thing in a clean stop, while this instance may still lead. */
  async beforeStop(leading: boolean): Promise<void> {
    this.leaderHead = leading ? await this.deps.metadata.feedHead().catch(() => null) : null;
  }

  /** Last thing in a clean stop, once nothing writes the table any more. */
  save(): void {
    const { db, metadata, projection } = this.deps;
    if (metadata.writeFailed) return;
    const head = this.leaderHead;
    // Without a head (a follower, or a leader whose read of it failed) the projection's own position serves: for a
    // leader that is older than its table, and the next start re-applies entries the table already holds: applying
    // one writes its files as their znodes say now, so nothing changes (a feed pruned past it reads everything).
    const cp = head
      ? projection.treeComplete === null
        ? null
        : { feedCzxid: head.czxid, feedPosition: head.position, treeComplete: projection.treeComplete }
      : projection.checkpoint();
    if (cp && cp.feedPosition !== '') saveProjectionCheckpoint(db, { ...cp, savedAt: this.deps.now().toISOString() });
  }
}
