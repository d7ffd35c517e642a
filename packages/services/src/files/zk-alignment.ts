/**
 * The file metadata under election: a new leader first makes its database say what ZooKeeper says, and then
 * prunes the change feed now and then while it leads.
 */
import { listAllFiles, type Db } from '@zkha/db';
import type { ZkSession } from '@zkha/zk';

import type { OperationsService } from '../logs/operations.ts';
import type { FileIndex } from './file-index.ts';
import { ZK_FILES_ROOT, type FileMetadataRegistry } from './file-metadata.ts';
import type { FileProjection } from './file-projection.ts';

/** Feed entries kept (each up to 64 files' metadata), and how often the leader prunes the rest. */
const FEED_KEEP = 500;
const FEED_PRUNE_MS = 10_000;

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
  const zkFiles = await session.client.children(ZK_FILES_ROOT);
  if (zkFiles.length === 0 && index.list().length > 0) {
    await metadata.putMany(listAllFiles(db), { create: true });
    operations.record({ action: 'zk_publish_files', status: 'success', details: { files: index.list().length, why: 'ZooKeeper held no file metadata: published this instance\'s' } });
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
