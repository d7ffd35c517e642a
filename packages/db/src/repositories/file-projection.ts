import { eq } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { fileProjectionCheckpoint } from '../schema.ts';

/** See the table: the `files` table equals ZooKeeper's file tree as of this change-feed entry. */
export interface ProjectionCheckpoint {
  feedCzxid: string;
  feedPosition: string;
  treeComplete: boolean;
  savedAt: string;
}

/** Records the checkpoint (replacing any), at a clean stop. */
export function saveProjectionCheckpoint(db: Db, cp: ProjectionCheckpoint): void {
  db.insert(fileProjectionCheckpoint)
    .values({ id: 1, ...cp })
    .onConflictDoUpdate({ target: fileProjectionCheckpoint.id, set: cp })
    .run();
}

/** Reads and deletes the checkpoint in one transaction: it serves one start at most. */
export function takeProjectionCheckpoint(db: Db): ProjectionCheckpoint | null {
  return db.transaction((tx) => {
    const row = tx.select().from(fileProjectionCheckpoint).where(eq(fileProjectionCheckpoint.id, 1)).get();
    if (!row) return null;
    tx.delete(fileProjectionCheckpoint).where(eq(fileProjectionCheckpoint.id, 1)).run();
    const { id: _id, ...cp } = row;
    return cp;
  });
}
