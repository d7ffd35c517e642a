import { randomUUID } from 'node:crypto';

import { isAppError, type FileRecord } from '@zkha/core';
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
  // One listing of every node serves the check and the repair (a fresh one follows for `remaining`).
  const seen = await listings(deps);
  const found = await findInconsistencies(deps, seen);
  const { files, unreachable } = seen;
  const at = deps.clock.now().toISOString();
  const run: RepairRun = { deps, files, unreachable, at, repaired: [], unrepaired: [], claimed: new Set<string>() };
  // Re-point rows before adopting orphan bytes, so a file moved behind our back is found, not duplicated.
  const order = (i: Inconsistency) => (i.kind === 'orphan_file' ? 1 : 0);
  for (const issue of [...found].sort((x, y) => order(x) - order(y))) await repairIssue(run, issue);
  return { found, repaired: run.repaired, unrepaired: run.unrepaired, remaining: await findInconsistencies(deps) };
}

/** One repair run: what its listing saw, when it ran, and what it did so far. */
interface RepairRun {
  deps: CheckDeps;
  files: Listings['files'];
  unreachable: Listings['unreachable'];
  at: string;
  repaired: RepairReport['repaired'];
  unrepaired: Inconsistency[];
  /** Bytes re-pointed to by a row are no longer orphans: they must not be adopted a second time. */
  claimed: Set<string>;
}

async function repairIssue(run: RepairRun, issue: Inconsistency): Promise<void> {
  const { db, metadata } = run.deps;
  const row = issue.uuid ? getFile(db, issue.uuid) : null;
  switch (issue.kind) {
    case 'missing_znode':
    case 'znode_differs':
      if (row) {
        await metadata.put(row);
        run.repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode rewritten from the database' });
      }
      break;
    case 'orphan_znode':
      // A second look: a file created while the check ran has its row now (rows are listed before znodes).
      if (row) break;
      await metadata.remove(issue.uuid!);
      run.repaired.push({ kind: issue.kind, uuid: issue.uuid, action: 'znode of a file the database does not know removed' });
      break;
    case 'wrong_folder':
    case 'missing_on_disk':
      if (row) await relocateRow(run, issue, row);
      break;
    case 'orphan_file':
      await adoptOrphanBytes(run, issue);
      break;
    case 'checksum':
    case 'node_unreachable':
      run.unrepaired.push(issue);
      break;
  }
}

/** Another node holding `name` with this content, if any. */
function elsewhere(run: RepairRun, name: string, sha256: string): string | null {
  for (const [node, listing] of run.files)
    if (
      listing.get(name)?.sha256 === sha256 &&
      !run.claimed.has(locationOf(node, name)) &&
      !getFileByPath(run.deps.db, locationOf(node, name))
    )
      return node;
  return null;
}

/** A row whose bytes are not where it says: point it at them (its own node or another), or drop it when they are gone. */
async function relocateRow(run: RepairRun, issue: Inconsistency, row: FileRecord): Promise<void> {
  const { db, metadata } = run.deps;
  const here = run.files.get(row.node)?.get(row.name);
  const node = here?.sha256 === row.sha256 ? row.node : elsewhere(run, row.name, row.sha256);
  if (node !== null) {
    const path = locationOf(node, row.name);
    const history = node === row.node ? row.history : [...row.history, { action: 'repair', from: row.node, to: node, at: run.at }];
    const fixed = updateFile(db, row.uuid, { node, path, history, updatedAt: run.at });
    await metadata.put(fixed);
    run.claimed.add(path);
    run.repaired.push({
      kind: issue.kind,
      uuid: row.uuid,
      action: node === row.node ? `location corrected to ${path}` : `found on ${node}: database and znode point there now`,
    });
  } else if (issue.kind === 'missing_on_disk' && run.unreachable.size === 0) {
    deleteFile(db, row.uuid);
    await metadata.remove(row.uuid);
    run.repaired.push({
      kind: issue.kind,
      uuid: row.uuid,
      action: `bytes gone from every node: record of ${row.name} removed (file lost)`,
    });
  } else {
    // A node that did not answer may hold the bytes: nothing is removed on a partial view.
    run.unrepaired.push(issue);
  }
}

/** Bytes no row claims: adopted as a new file when their node is a storage node that listed them. */
async function adoptOrphanBytes(run: RepairRun, issue: Inconsistency): Promise<void> {
  const { db, metadata } = run.deps;
  // A second look, as for znodes: bytes written by an upload while the check ran have their row now.
  if (run.claimed.has(issue.detail) || getFileByPath(db, issue.detail)) return;
  const [node, name] = [issue.detail.slice(0, issue.detail.indexOf('/')), issue.detail.slice(issue.detail.indexOf('/') + 1)];
  const entry = run.files.get(node)?.get(name);
  if (!entry || !run.deps.nodes.includes(node)) {
    run.unrepaired.push(issue);
    return;
  }
  const rec = insertFile(db, {
    uuid: randomUUID(),
    name,
    node,
    path: issue.detail,
    sizeBytes: entry.sizeBytes,
    sha256: entry.sha256,
    createdAt: run.at,
    history: [{ action: 'adopted', node, at: run.at }],
  });
  await metadata.put(rec);
  run.repaired.push({ kind: issue.kind, uuid: rec.uuid, action: `unknown bytes on ${node} adopted as a new file` });
}
