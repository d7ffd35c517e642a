/**
 * The file metadata under election: a new leader first makes its database say what ZooKeeper says, and then
 * prunes the change feed now and then while it leads.
 */
import { pagesOfFiles, type Db } from '@zkha/db';
import type { ZkSession } from '@zkha/zk';

import type { OperationsService } from '../logs/operations.ts';
import type { FileIndex } from './file-index.ts';
import { ZK_FILES_ROOT, type FileMetadataRegistry } from './file-metadata.ts';
import type { FileProjection } from './file-projection.ts';

/** Feed entries kept (each up to 64 files' metadata), and how often the leader prunes the rest. */
const FEED_KEEP = 500;
const FEED_PRUNE_MS = 10_000;
/** Records read from SQLite per putMany of a first publish (putMany keeps 8 multis of 64 in flight: 8 rounds). */
const PUBLISH_PAGE = 4096;

/**
 * Before a new leader acts, its database says what ZooKeeper says. Except once: a tree with no file znodes at
 * all beside a database with files is a deployment from before the shared state, published rather than wiped.
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
  // The count from the stat: the 100,000 names themselves are read once, by the catch-up that needs them.
  const zkFiles = (await session.client.stat(ZK_FILES_ROOT))?.numChildren ?? 0;
  if (zkFiles === 0 && index.size > 0) {
    // A page at a time: 100,000 records with their histories held at once were ~60 MB of heap at the peak.
    for (const page of pagesOfFiles(db, PUBLISH_PAGE)) await metadata.putMany(page, { create: true });
    operations.record({
      action: 'zk_publish_files',
      status: 'success',
      details: { files: index.size, why: "ZooKeeper held no file metadata: published this instance's" },
    });
    return;
  }
  await projection.catchUp();
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
