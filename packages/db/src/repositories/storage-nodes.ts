import { eq } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { storageNodes, type StorageNodeRow } from '../schema.ts';
import { nowIso } from './util.ts';

export type StorageNodeRecord = StorageNodeRow;
export type NodeLifecycle = StorageNodeRow['lifecycle'];

export function listStorageNodes(db: Db): StorageNodeRecord[] {
  return db.select().from(storageNodes).orderBy(storageNodes.createdAt, storageNodes.node).all();
}

export function getStorageNode(db: Db, node: string): StorageNodeRecord | null {
  return db.select().from(storageNodes).where(eq(storageNodes.node, node)).get() ?? null;
}

/**
 * Registers the ensemble's own servers as storage nodes the first time they are seen. Existing rows are
 * left alone, so a node an operator removed stays removed across restarts.
 */
export function ensureEnsembleStorageNodes(db: Db, nodes: readonly string[]): void {
  const now = nowIso();
  db.transaction((tx) => {
    for (const node of nodes) {
      tx.insert(storageNodes)
        .values({ node, lifecycle: 'active', origin: 'ensemble', createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .run();
    }
  });
}

export function insertStorageNode(
  db: Db,
  row: {
    node: string;
    lifecycle: NodeLifecycle;
    origin: StorageNodeRow['origin'];
    capacityBytes?: number | null;
    weight?: number | null;
    reason?: string | null;
  },
): StorageNodeRecord {
  const now = nowIso();
  return db
    .insert(storageNodes)
    .values({ capacityBytes: null, weight: null, reason: null, ...row, createdAt: now, updatedAt: now })
    .returning()
    .get();
}

export function updateStorageNode(
  db: Db,
  node: string,
  patch: Partial<Pick<StorageNodeRow, 'lifecycle' | 'capacityBytes' | 'weight' | 'reason'>>,
): StorageNodeRecord {
  const row = db
    .update(storageNodes)
    .set({ ...patch, updatedAt: nowIso() })
    .where(eq(storageNodes.node, node))
    .returning()
    .get();
  if (!row) throw new Error(`storage node ${node} is not registered`);
  return row;
}

/** Makes the table exactly `rows` (another instance's records, as the leader wrote them): a follower's projection. */
export function projectStorageNodes(db: Db, rows: readonly StorageNodeRecord[]): void {
  db.transaction((tx) => {
    tx.delete(storageNodes).run();
    for (const r of rows) tx.insert(storageNodes).values(r).run();
  });
}
