import type { FileRecord, PlanFile } from '@zkha/core';

/**
 * The placement of every file (node, size, age, last action) in memory, newest first: what the planner reads.
 * Reading 100,000 rows from SQLite costs ~0.5 s, planning over them ~7 ms, and the plan is recomputed after
 * every change, so the services that write files (the only writers) keep this index in step instead.
 * Loaded from the database at start-up, it is the database's view, never ahead of it.
 */
export class FileIndex {
  private readonly byUuid = new Map<string, PlanFile>();
  /** Newest first (createdAt desc, uuid asc), as the planner wants; null when it must be re-sorted. */
  private ordered: PlanFile[] | null = [];
  private readonly perNode = new Map<string, number>();
  private readonly bytesPerNode = new Map<string, number>();
  private changes = 0;
  private readonly strings = new Map<string, string>();

  /** Bumped by every change: equal versions mean the same placement (the planner's cache key). */
  get version(): number {
    return this.changes;
  }

  /** Every entry from these rows (an iterable: a generator paging SQLite is never held whole beside the index). */
  load(rows: Iterable<PlanFile>): void {
    this.changes++;
    this.byUuid.clear();
    this.perNode.clear();
    this.bytesPerNode.clear();
    for (const r of rows) this.put(this.entry(r.uuid, r.name, r.node, r.sizeBytes, r.createdAt, r.historyLength, r.lastAction));
    this.ordered = null;
  }

  add(file: FileRecord): void {
    this.changes++;
    const entry = this.entry(
      file.uuid,
      file.name,
      file.node,
      file.sizeBytes,
      file.createdAt,
      file.history.length,
      file.history.at(-1)?.action ?? null,
    );
    this.put(entry);
    const first = this.ordered?.[0];
    // New files are the newest: keep the order without a sort in the common case.
    if (this.ordered && (!first || entry.createdAt > first.createdAt)) this.ordered.unshift(entry);
    else this.ordered = null;
  }

  /** Records a move; the order (by creation time) does not change. */
  move(uuid: string, node: string, action: string): void {
    this.changes++;
    const entry = this.byUuid.get(uuid);
    if (!entry) return;
    this.bump(entry.node, -1, -entry.sizeBytes);
    this.bump(node, 1, entry.sizeBytes);
    entry.node = this.intern(node);
    entry.historyLength += 1;
    entry.lastAction = this.intern(action);
  }

  /** Replaces an entry wholesale from its record (after a rollback restored the old row). */
  reset(file: FileRecord): void {
    this.remove(file.uuid);
    this.add(file);
  }

  remove(uuid: string): void {
    this.changes++;
    const entry = this.byUuid.get(uuid);
    if (!entry) return;
    this.byUuid.delete(uuid);
    this.bump(entry.node, -1, -entry.sizeBytes);
    if (this.ordered) {
      const i = this.ordered.indexOf(entry);
      if (i >= 0) this.ordered.splice(i, 1);
    }
  }

  list(): readonly PlanFile[] {
    this.ordered ??= [...this.byUuid.values()].sort((a, b) =>
      a.createdAt === b.createdAt ? (a.uuid < b.uuid ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1,
    );
    return this.ordered;
  }

  get(uuid: string): PlanFile | undefined {
    return this.byUuid.get(uuid);
  }

  counts(nodes: readonly string[]): Record<string, number> {
    return Object.fromEntries(nodes.map((n) => [n, this.perNode.get(n) ?? 0]));
  }

  /** Files and bytes on a node, kept in step like the counts (the lifecycle and capacity views read them often). */
  usage(node: string): { files: number; bytes: number } {
    return { files: this.perNode.get(node) ?? 0, bytes: this.bytesPerNode.get(node) ?? 0 };
  }

  get size(): number {
    return this.byUuid.size;
  }

  /**
   * One entry, its node and last action interned: SQLite and JSON hand out a fresh string per row, and a handful
   * of distinct values stored 100,000 times each is ~5 MB of copies.
   */
  private entry(
    uuid: string,
    name: string,
    node: string,
    sizeBytes: number,
    createdAt: string,
    historyLength: number,
    lastAction: string | null,
  ): PlanFile {
    return {
      uuid,
      name,
      node: this.intern(node),
      sizeBytes,
      createdAt,
      historyLength,
      lastAction: lastAction === null ? null : this.intern(lastAction),
    };
  }

  private intern(s: string): string {
    let v = this.strings.get(s);
    if (v === undefined) {
      // A few nodes and actions in practice; should something vary per file, stop interning rather than grow.
      if (this.strings.size >= 1024) return s;
      this.strings.set(s, s);
      v = s;
    }
    return v;
  }

  private put(entry: PlanFile): void {
    const old = this.byUuid.get(entry.uuid);
    if (old) this.bump(old.node, -1, -old.sizeBytes);
    this.byUuid.set(entry.uuid, entry);
    this.bump(entry.node, 1, entry.sizeBytes);
  }

  private bump(node: string, by: number, bytes: number): void {
    this.perNode.set(node, (this.perNode.get(node) ?? 0) + by);
    this.bytesPerNode.set(node, (this.bytesPerNode.get(node) ?? 0) + bytes);
  }
}
