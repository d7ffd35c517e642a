import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';

import { AppError, assertKnownNode, type FileRecord } from '@zkha/core';
import { deleteFile as deleteFileRow, filesForPlanning, getFile, insertFile, listFiles, type Db } from '@zkha/db';
import type { FileStoragePort, StoredFile } from '@zkha/storage';

import type { NodeCapacities, RoomReservation } from '../capacity/node-capacities.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import { findInconsistencies, repairInconsistencies } from './consistency.ts';
import type { FileIndex } from './file-index.ts';
import type { FileMetadataRegistry } from './file-metadata.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface GenerateOptions {
  count: number;
  sizeBytes: number;
  /**
   * A pinned node (all the files must fit on it, or none is made: NODE_FULL), or null to place each file on the
   * node with the fewest files among those with room for it (skipping drained ones).
   */
  node: string | null;
  action: string;
  /** Called after each file so long generations can report progress. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Files live in three places: bytes with their node's storage agent, a row in SQLite, a znode in ZooKeeper. This
 * service is the only writer of all three and undoes the earlier steps when a later one fails, so they never disagree.
 */
export class FilesService {
  constructor(
    private readonly deps: {
      db: Db;
      storage: FileStoragePort;
      metadata: FileMetadataRegistry;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      nodes: readonly string[];
      /** Every put reserves its bytes here first: one past the node's capacity is refused with NODE_FULL. */
      capacities: NodeCapacities;
      drainedNodes: () => ReadonlySet<string>;
      /** Refuses writes while ZooKeeper has no quorum (NO_QUORUM), before anything is written. */
      assertQuorum?: (what: string) => void;
      /**
       * Holds the migration engine still (no copy running, none starting) and returns the function that lets
       * it go: a check during a move would see the file in two folders, and a repair would adopt the copy.
       */
      quiesce?: () => Promise<() => void>;
      /** The open migration of a file, if it has one: such a file is not deleted under the engine's feet. */
      migrationOf?: (uuid: string) => { id: number; status: string; target: string } | null;
    },
  ) {}

  list(opts: { node?: string; limit: number; offset: number }) {
    if (opts.node !== undefined) assertKnownNode(this.deps.nodes, opts.node);
    return listFiles(this.deps.db, opts);
  }

  byId(uuid: string): FileRecord {
    const file = getFile(this.deps.db, uuid);
    if (!file) throw new AppError('FILE_NOT_FOUND', `no file with uuid ${uuid}`, { uuid });
    return file;
  }

  counts(): Record<string, number> {
    return this.deps.index.counts(this.deps.nodes);
  }

  /**
   * The node with the fewest files among those not drained (all nodes when every one is drained) that have room
   * for `needBytes` more; when none has, among them all (the put is then refused with NODE_FULL).
   */
  placementNode(counts: Record<string, number>, needBytes = 0): string {
    const drained = this.deps.drainedNodes();
    const pool = this.deps.nodes.filter((n) => !drained.has(n));
    const open = pool.length > 0 ? pool : this.deps.nodes;
    const roomy = open.filter((n) => this.deps.capacities.hasRoom(n, needBytes));
    const candidates = roomy.length > 0 ? roomy : open;
    let best = candidates[0];
    for (const n of candidates) if ((counts[n] ?? 0) < (counts[best!] ?? 0)) best = n;
    if (best === undefined) throw new AppError('NODE_NOT_FOUND', 'no nodes are configured');
    return best;
  }

  async generate(opts: GenerateOptions): Promise<FileRecord[]> {
    if (opts.node !== null) assertKnownNode(this.deps.nodes, opts.node);
    this.deps.assertQuorum?.('creating files');
    // Pinned, the whole batch must fit: refused before the first file rather than cut off half-way.
    if (opts.node !== null) this.deps.capacities.assertRoom(opts.node, opts.count * opts.sizeBytes, opts.count);
    const counts = this.counts();
    const created: FileRecord[] = [];
    try {
      for (let i = 0; i < opts.count; i++) {
        const node = opts.node ?? this.placementNode(counts, opts.sizeBytes);
        const room = this.deps.capacities.reserve(node, opts.sizeBytes);
        try {
          const written = await this.deps.storage.createDemoFile(node, opts.sizeBytes);
          created.push(await this.register(node, written, opts.action));
        } finally {
          room.release();
        }
        counts[node] = (counts[node] ?? 0) + 1;
        opts.onProgress?.(i + 1, opts.count);
      }
    } finally {
      if (created.length > 0) this.deps.events.emit('changed', { kind: 'files' });
    }
    return created;
  }

  async upload(
    node: string,
    name: string,
    source: Readable | AsyncIterable<Uint8Array>,
    opts: { maxBytes: number; expectedSha256?: string },
  ) {
    assertKnownNode(this.deps.nodes, node);
    this.deps.assertQuorum?.('an upload');
    // The size is known only once the stream ends: room is taken chunk by chunk, and the upload is cut off
    // (NODE_FULL, nothing left behind) as soon as it would pass the node's capacity.
    const room = this.deps.capacities.reserve(node, 0);
    try {
      const written = await this.deps.storage.saveUpload(node, name, metered(source, room), opts);
      const file = await this.register(node, written, 'uploaded');
      this.deps.events.emit('changed', { kind: 'files' });
      return file;
    } finally {
      room.release();
    }
  }

  /**
   * A file's bytes, streamed from its node's agent (one range of them with `range`), only while they still hash to
   * the recorded checksum: other bytes under the file's name are not this file (CHECKSUM_MISMATCH; files.verify says more).
   */
  async read(uuid: string, range?: { start: number; end?: number }) {
    const file = this.byId(uuid);
    const stream = await this.deps.storage.read(file.node, file.name, range);
    if (stream.sha256 !== file.sha256) {
      stream.destroy();
      throw new AppError(
        'CHECKSUM_MISMATCH',
        `the bytes of ${file.name} on ${file.node} hash to ${stream.sha256}, not the recorded ${file.sha256}: run files.verify`,
        { uuid, node: file.node },
      );
    }
    return { file, stream };
  }

  async delete(uuid: string): Promise<FileRecord> {
    const file = this.byId(uuid);
    const moving = this.deps.migrationOf?.(uuid) ?? null;
    if (moving) {
      // Deleting mid-move would leave the copy on the target as an orphan file and znode.
      throw new AppError(
        'CONFLICT',
        `${file.name} is being moved to ${moving.target} (migration ${moving.id}, ${moving.status}): cancel the migration or delete it once moved`,
        {
          uuid,
          migration: moving.id,
        },
      );
    }
    this.deps.assertQuorum?.('deleting a file');
    // The agent must answer before anything is removed: records gone while the bytes stay would come back as an
    // orphan file at the next check, which adopts it.
    await this.deps.storage.stat(file.node, file.name);
    // ZooKeeper first: if it refuses (no quorum), the file stays whole in all three places.
    await this.deps.metadata.remove(uuid);
    deleteFileRow(this.deps.db, uuid);
    this.deps.index.remove(uuid);
    // Only this file's content: a name reused since (by a repair's adoption) is not ours to remove.
    await this.deps.storage.deleteFile(file.node, file.name, { ifSha256: file.sha256 }).catch((err: unknown) => {
      this.deps.operations.record({
        action: 'file_delete_bytes',
        node: file.node,
        status: 'failed',
        details: { uuid, name: file.name, error: (err as Error).message },
      });
    });
    this.deps.events.emit('changed', { kind: 'files' });
    return file;
  }

  /**
   * The consistency check (`files.verify`): lists every disagreement between disk, database and ZooKeeper and,
   * with `repair`, fixes what can be fixed without destroying bytes. Reads every file, so it is not a hot path.
   */
  async verify(opts: { repair: boolean }) {
    const release = (await this.deps.quiesce?.()) ?? (() => undefined);
    try {
      return await this.verifyQuiet(opts);
    } finally {
      release();
    }
  }

  private async verifyQuiet(opts: { repair: boolean }) {
    const { db, storage, metadata, nodes, clock, index, operations } = this.deps;
    const deps = { db, storage, metadata, nodes, clock };
    if (!opts.repair) {
      const found = await findInconsistencies(deps);
      operations.record({ action: 'files_verify', status: 'success', details: { repair: false, found: found.length } });
      return { found, repaired: [], unrepaired: found, remaining: found };
    }
    const report = await repairInconsistencies(deps);
    // Repairs write rows directly: rebuild the placement index from the database they leave behind.
    index.load(filesForPlanning(db));
    this.deps.events.emit('changed', { kind: 'files' });
    operations.record({
      action: 'files_verify',
      status: report.remaining.length === 0 ? 'success' : 'failed',
      details: { repair: true, found: report.found.length, repaired: report.repaired, unrepaired: report.unrepaired.length },
    });
    return report;
  }

  /** Adds the row and the znode for bytes already stored; removes what it added if a step fails. */
  private async register(node: string, written: StoredFile, action: string) {
    const at = this.deps.clock.now().toISOString();
    const record: FileRecord = {
      uuid: randomUUID(),
      name: written.name,
      node,
      path: written.path,
      sizeBytes: written.sizeBytes,
      sha256: written.sha256,
      createdAt: at,
      updatedAt: at,
      history: [{ action, node, at }],
    };
    const unstore = () => this.deps.storage.deleteFile(node, written.name, { ifSha256: written.sha256 }).catch(() => false);
    try {
      insertFile(this.deps.db, record);
    } catch (err) {
      await unstore();
      throw err;
    }
    try {
      await this.deps.metadata.put(record);
    } catch (err) {
      deleteFileRow(this.deps.db, record.uuid);
      await unstore();
      throw err;
    }
    this.deps.index.add(record);
    return record;
  }
}

/** Passes a stream's chunks on, holding room for each on the node first (NODE_FULL stops the stream). */
async function* metered(source: Readable | AsyncIterable<Uint8Array>, room: RoomReservation): AsyncGenerator<Uint8Array> {
  for await (const raw of source as AsyncIterable<Uint8Array | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    room.grow(chunk.byteLength);
    yield chunk;
  }
}
