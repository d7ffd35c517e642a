import { eq } from 'drizzle-orm';

import type { Db } from '../client.ts';
import { stores, type StoreRow } from '../schema.ts';

export type StoreStatus = StoreRow['status'];
export type StoreRecord = StoreRow;

export function listStores(db: Db): StoreRecord[] {
  return db.select().from(stores).orderBy(stores.node).all();
}

export function getStore(db: Db, node: string): StoreRecord | null {
  return db.select().from(stores).where(eq(stores.node, node)).get() ?? null;
}

/** Inserts or replaces a node's row as given: the caller decides what changed and when. */
export function upsertStore(db: Db, row: StoreRecord): StoreRecord {
  const { node, ...rest } = row;
  return db.insert(stores).values(row).onConflictDoUpdate({ target: stores.node, set: rest }).returning().get();
}

export function deleteStore(db: Db, node: string): boolean {
  return db.delete(stores).where(eq(stores.node, node)).run().changes > 0;
}
