import { randomUUID } from 'node:crypto';

import { isAppError } from '@zkha/core';
import { deleteFile, getFile, getFileByPath, insertFile, listFiles, updateFile, type Db } from '@zkha/db';
import { locationOf, type FileStoragePort, type TFileEntry } from '@zkha/storage';

import type { FileMetadataRegistry } from './file-metadata.ts';

export interface Inconsistency {
  uuid: string | null;
  kind:
    | 'missing_on_disk'
    | 'wrong_folder'
    | 'checksum'
    | 'missing_znode'
    | 'znode_differs'
    | 'orphan_znode'
    | 'orphan_file'
    | 'node_unreachable';
  detail: string;
}

interface CheckDeps {
  db: Db;
  storage: FileStoragePort;
  metadata: FileMetadataRegistry;
  nodes: readonly string[];
}

/**
 * Every node's listing, from its agent (names, sizes and checksums: the agent hashes and caches them). A node whose
 * agent does not answer is left out and named, so its files are neither reported lost nor touched by a repair.
 */
type Listings = { files: Map<string, Map<string, TFileEntry>>; unreachable: Map<string, string> };

async function listings(deps: CheckDeps): Promise<Listings> {
  const files = new Map<string, Map<string, TFileEntry>>();
  const unreachable = new Map<string, string>();
  await Promise.all(
    deps.nodes.map(async (node) => {
      try {
        files.set(node, new Map((await deps.storage.listNodeFiles(node)).map((f) => [f.name, f])));
      } catch (err) {
        if (!(isAppError(err) && err.code === 'STORAGE_UNAVAILABLE')) throw err;
        unreachable.set(node, err.message);
      }
    }),
  );
  return { files, unreachable };
}

function allRows(db: Db) {
  const rows = [];
  for (let offset = 0; ; offset += 500) {
    const page = listFiles(db, { limit: 500, offset });
    rows.push(...page.items);
    if (page.items.length < 500) return rows;
  }
}

/**
 * Compares the three homes of every file (the agents' folders, the database, ZooKeeper) and lists each
 * disagreement. The agents' checksums cover every byte, so it is for explicit checks, not for hot paths.
 */
export async function findInconsistencies(deps: CheckDeps, seen?: Listings): Promise<Inconsistency[]> {
  const out: Inconsistency[] = [];
  const rows = allRows(deps.db);
  const { files, unreachable } = seen ?? (await listings(deps));
  for (const [node, why] of unreachable) out.push({ uuid: null, kind: 'node_unreachable', detail: `${node}: ${why}` });
  const known = new Set(rows.map((r) => r.uuid));
  const unclaimed = new Set<string>();
  for (const [node, listing] of files) for (const name of listing.keys()) unclaimed.add(locationOf(node, name));
  for (const row of rows) {
    if (unreachable.has(row.node)) continue;
    const entry = files.get(row.node)?.get(row.name);
    if (!entry) {
      out.push({ uuid: row.uuid, kind: 'missing_on_disk', detail: locationOf(row.node, row.name) });
      continue;
    }
    unclaimed.delete(locationOf(row.node, row.name));
    if (row.path !== locationOf(row.node, row.name))
      out.push({ uuid: row.uuid, kind: 'wrong_folder', detail: `${row.path} is not ${locationOf(row.node, row.name)}` });
    if (entry.sha256 !== row.sha256) out.push({ uuid: row.uuid, kind: 'checksum', detail: `${entry.sha256} != ${row.sha256}` });
    const z = await deps.metadata.get(row.uuid);
    if (!z) out.push({ uuid: row.uuid, kind: 'missing_znode', detail: '' });
    else if (z.node !== row.node || z.path !== row.path || z.checksum !== row.sha256 || z.history.length !== row.history.length) {
      out.push({ uuid: row.uuid, kind: 'znode_differs', detail: `znode says ${z.node}:${z.path}, database says ${row.node}:${row.path}` });
    }
  }
  for (const uuid of await deps.metadata.list()) if (!known.has(uuid)) out.push({ uuid, kind: 'orphan_znode', detail: '' });
  for (const loc of unclaimed) out.push({ uuid: null, kind: 'orphan_file', detail: loc });
  return out;
}

export interface RepairReport {
  found: Inconsistency[];
  repaired: { kind: Inconsistency['kind']; uuid: string | null; action: string }[];
  unrepaired: Inconsistency[];
  /** What a fresh check finds after the repairs (empty when everything could be fixed). */
  remaining: Inconsistency[];
}

/**
 * Makes the agents, the database and ZooKeeper agree again, never by destroying bytes: the database and the agents
 * win over ZooKeeper (znodes are rewritten or removed), a file found on another node is re-pointed there, and
 * bytes nobody knows about are adopted as new files. A row whose bytes are gone from every node is removed (it is
 * reported as lost), unless some node did not answer; a checksum mismatch is reported and left alone.
 */
export async function repairInconsistencies(deps: CheckDeps & { clock: { now(): Date } }): Promise<RepairReport> {
  const { db, metadata } = deps;
  // One listing of every node serves the check and the repair (a fresh one follows for `remaining`).
  const seen = await listings(deps);
  const found = await findInconsistencies(deps, seen);
  const { files, unreachable } = seen;
  const at = deps.clock.now().toISOString();
  const repaired: RepairReport['repaired'] = [];
  const unrepaired: Inconsistency[] = [];
  // Bytes re-pointed to by a row are no longer orphans: they must not be adopted a second time.
  const claimed = new Set<string>();
  /** Another node holding `name` with this content, if any. */
  const elsewhere = (name: string, sha256: string): string | null => {
    for (const [node, listing] of files)
      if (listing.get(name)?.sha256 === sha256 && !claimed.has(locationOf(node, name)) && !getFileByPath(db, locationOf(node, name)))
        return node;
    return null;
  };

  // Re-point rows before adopting orphan bytes, so a file moved behind our back is found, not duplicated.
  const order = (i: Inconsistency) => (i.kind === 'orphan_file' ? 1 : 0);
  for (const issue of [...found].sort((x, y) => order(x) - order(y))) {
    const row = issue.uuid ? getFile(db, issue.uuid) : null;
    switch (issue.kind) {
      case 'missing_znode':
      case 'znode_differs':
        if (row) {
          await metadata.put(row);
          repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode rewritten from the database' });
        }
        break;
      case 'orphan_znode':
        // A second look: a file created while the check ran has its row now (rows are listed before znodes).
        if (row) break;
        await metadata.remove(issue.uuid!);
        repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode of a file the database does not know removed' });
        break;
      case 'wrong_folder':
      case 'missing_on_disk': {
        if (!row) break;
        const here = files.get(row.node)?.get(row.name);
        const node = here?.sha256 === row.sha256 ? row.node : elsewhere(row.name, row.sha256);
        if (node !== null) {
          const path = locationOf(node, row.name);
          const history = node === row.node ? row.history : [...row.history, { action: 'repair', from: row.node, to: node, at }];
          const fixed = updateFile(db, row.uuid, { node, path, history, updatedAt: at });
          await metadata.put(fixed);
          claimed.add(path);
          repaired.push({
            kind: issue.kind,
            uuid: row.uuid,
            action: node === row.node ? `location corrected to ${path}` : `found on ${node}: database and znode point there now`,
          });
        } else if (issue.kind === 'missing_on_disk' && unreachable.size === 0) {
          deleteFile(db, row.uuid);
          await metadata.remove(row.uuid);
          repaired.push({
            kind: issue.kind,
            uuid: row.uuid,
            action: `bytes gone from every node: record of ${row.name} removed (file lost)`,
          });
        } else {
          // A node that did not answer may hold the bytes: nothing is removed on a partial view.
          unrepaired.push(issue);
        }
        break;
      }
      case 'orphan_file': {
        // A second look, as for znodes: bytes written by an upload while the check ran have their row now.
        if (claimed.has(issue.detail) || getFileByPath(db, issue.detail)) break;
        const [node, name] = [issue.detail.slice(0, issue.detail.indexOf('/')), issue.detail.slice(issue.detail.indexOf('/') + 1)];
        const entry = files.get(node)?.get(name);
        if (!entry || !deps.nodes.includes(node)) {
          unrepaired.push(issue);
          break;
        }
        const rec = insertFile(db, {
          uuid: randomUUID(),
          name,
          node,
          path: issue.detail,
          sizeBytes: entry.sizeBytes,
          sha256: entry.sha256,
          createdAt: at,
          history: [{ action: 'adopted', node, at }],
        });
        await metadata.put(rec);
        repaired.push({ kind: issue.kind, uuid: rec.uuid, action: `unknown bytes on ${node} adopted as a new file` });
        break;
      }
      case 'checksum':
      case 'node_unreachable':
        unrepaired.push(issue);
        break;
    }
  }
  return { found, repaired, unrepaired, remaining: await findInconsistencies(deps) };
}
