/**
 * The agent's in-memory view of its folder: which files it holds, their total size (for capacity checks on every
 * put without a folder walk) and each file's SHA-256, cached.
 *
 * Checksums are cached in memory, keyed by inode + mtime + size, not in a sidecar file: a file written through
 * the agent has its checksum computed on the way in, so it is never hashed again; a file found on disk is hashed
 * once, on first demand. Any change to the file (an in-place edit, a replacement) changes one of the three and
 * the next reader rehashes. The price is one lazy rehash per pre-existing file after a restart; a sidecar would
 * avoid that but can itself go stale or be lost in a crash between the file and its sidecar.
 *
 * Pure bookkeeping, no I/O: agent-folder.ts does the disk work and tells the index what it saw.
 */

export interface FileIdentity {
  size: number;
  ino: number;
  mtimeMs: number;
}

interface Entry extends FileIdentity {
  sha256: string | null;
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeMs === b.mtimeMs;
}

export class FolderIndex {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  /** Bumped by every change the agent makes itself, so a rescan running meanwhile does not undo it. */
  private seq = 0;
  private readonly changedAt = new Map<string, number>();
  private reservedBytes = 0;

  get files(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  get reserved(): number {
    return this.reservedBytes;
  }

  /** The cached checksum of `name`, if the file on disk is still the one it was computed for. */
  cachedSha(name: string, id: FileIdentity): string | null {
    const e = this.entries.get(name);
    return e && e.sha256 !== null && sameIdentity(e, id) ? e.sha256 : null;
  }

  /** Records a file the agent wrote, or one it saw (and possibly hashed) on disk. */
  record(name: string, id: FileIdentity, sha256: string | null): void {
    this.put(name, id, sha256);
    this.changedAt.set(name, ++this.seq);
  }

  forget(name: string): void {
    this.drop(name);
    this.changedAt.set(name, ++this.seq);
  }

  /** Promises `bytes` of capacity to a write in flight; the returned function gives them back (once). */
  reserve(bytes: number): () => void {
    this.reservedBytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reservedBytes -= bytes;
    };
  }

  /** Marks the start of a folder walk; pass the mark to applyScan. */
  scanMark(): number {
    return this.seq;
  }

  /**
   * Makes the index agree with a folder walk that began at `mark`: files seen are added (keeping a cached
   * checksum when the identity is unchanged), files not seen are dropped. Names the agent itself changed after
   * the mark are left alone, as the walk may have seen them before or after the change.
   */
  applyScan(mark: number, seen: ReadonlyMap<string, FileIdentity>): void {
    const touched = (name: string) => (this.changedAt.get(name) ?? 0) > mark;
    for (const [name, id] of seen) {
      if (touched(name)) continue;
      const e = this.entries.get(name);
      this.put(name, id, e && sameIdentity(e, id) ? e.sha256 : null);
    }
    for (const name of [...this.entries.keys()]) if (!seen.has(name) && !touched(name)) this.drop(name);
    // Changes older than this walk are reflected in it: no later walk needs them.
    for (const [name, at] of this.changedAt) if (at <= mark) this.changedAt.delete(name);
  }

  private put(name: string, id: FileIdentity, sha256: string | null): void {
    this.drop(name);
    this.entries.set(name, { size: id.size, ino: id.ino, mtimeMs: id.mtimeMs, sha256 });
    this.total += id.size;
  }

  private drop(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.total -= e.size;
    this.entries.delete(name);
  }
}
