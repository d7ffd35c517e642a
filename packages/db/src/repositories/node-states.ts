import { inArray } from 'drizzle-orm';
import type { NodeState } from '@zkha/core';
import type { Db } from '../client.ts';
import { nodeStates, type NodeStateRow } from '../schema.ts';
import { nowIso } from './util.ts';

function toState(row: NodeStateRow): NodeState {
  return { node: row.node, drained: row.drained, reason: row.reason, updatedAt: row.updatedAt };
}

/**
 * State of each requested node, in the order asked. Rows are only written when an operator drains or
 * undrains, so a node without a row is simply in service.
 */
export function getNodeStates(db: Db, nodes: readonly string[]): NodeState[] {
  if (nodes.length === 0) return [];
  const rows = db
    .select()
    .from(nodeStates)
    .where(inArray(nodeStates.node, [...nodes]))
    .all();
  const byNode = new Map(rows.map((r) => [r.node, r]));
  return nodes.map((node) => {
    const row = byNode.get(node);
    return row ? toState(row) : { node, drained: false, reason: null, updatedAt: null };
  });
}

/** Upserts the drain flag; `reason` is stored as given (pass null when undraining). */
export function setNodeDrained(db: Db, node: string, drained: boolean, reason: string | null = null): NodeState {
  const updatedAt = nowIso();
  const row = db
    .insert(nodeStates)
    .values({ node, drained, reason, updatedAt })
    .onConflictDoUpdate({ target: nodeStates.node, set: { drained, reason, updatedAt } })
    .returning()
    .get();
  return toState(row);
}

/** Writes drain states as another instance recorded them (their updatedAt kept): a follower's projection. */
export function projectNodeStates(db: Db, states: readonly NodeState[]): void {
  db.transaction((tx) => {
    for (const s of states) {
      if (s.updatedAt === null) {
        tx.delete(nodeStates)
          .where(inArray(nodeStates.node, [s.node]))
          .run();
        continue;
      }
      const row = { drained: s.drained, reason: s.reason, updatedAt: s.updatedAt };
      tx.insert(nodeStates)
        .values({ node: s.node, ...row })
        .onConflictDoUpdate({ target: nodeStates.node, set: row })
        .run();
    }
  });
}
