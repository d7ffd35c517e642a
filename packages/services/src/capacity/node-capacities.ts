import { checkNodeRoom, nodeCapacity, ownFilesystemNodes, type NodeCapacity } from '@zkha/core';

/** The configured capacities (STORAGE_NODE_CAPACITY and STORAGE_NODE_CAPACITIES). */
export interface StorageCapacitySettings {
  /** Every node's capacity unless overridden below or registered with the node; null: none configured. */
  defaultBytes: number | null;
  /** Per-node overrides by node name. */
  perNode: Readonly<Record<string, number>>;
}

/** What a node's storage agent says of its folder's filesystem (statfs); null figures when it could not tell. */
export interface FilesystemReport {
  node: string;
  /** The filesystem's size. */
  filesystemBytes: number | null;
  /** The filesystem's identity when the agent reports one (see ownFilesystemNodes). */
  filesystemId?: string | null;
  freeBytes: number | null;
}

export interface NodeCapacityView extends NodeCapacity {
  node: string;
  usedBytes: number;
  /** Puts being written and moves not yet committed into the node. */
  incomingBytes: number;
  /** The configured capacity before its own filesystem's bound (registered, else configured). */
  statedBytes: number | null;
  /** True when its folder is a filesystem of its own: its free space then bounds its capacity too. */
  ownFilesystem: boolean;
}

/** Room held on a node for bytes on their way in, until they are in the file index or abandoned. */
export interface RoomReservation {
  readonly node: string;
  readonly bytes: number;
  /** Holds `bytes` more (a streamed upload's next chunk); NODE_FULL past the node's capacity. */
  grow(bytes: number): void;
  /** Gives the room back; idempotent. */
  release(): void;
}

/**
 * Each storage node's capacity, one definition for every caller (placement, uploads, the migration engine, the
 * planners, the lifecycle view): registered with the node, else configured (per node, else the default), and
 * at most used + free when the node's folder is its own filesystem (see ownFilesystemNodes). Puts and moves
 * reserve their bytes here before writing, so two of them cannot both take the last room.
 */
export class NodeCapacities {
  private readonly incoming = new Map<string, number>();

  constructor(
    private readonly deps: {
      /** Capacity registered with a node added at run time; null when none. */
      registered: (node: string) => number | null;
      /** Bytes of the node's files now (the file index). */
      usedBytes: (node: string) => number;
      /** The agents' latest statfs figures, one per node that reports them. */
      filesystems: () => readonly FilesystemReport[];
    },
    private readonly settings: StorageCapacitySettings = { defaultBytes: null, perNode: {} },
  ) {}

  /** The configured capacity of a node (its override, else the default); null when none is configured. */
  configuredOf(node: string): number | null {
    return this.settings.perNode[node] ?? this.settings.defaultBytes;
  }

  /** The size of a node added without one: the configured default. */
  get defaultBytes(): number | null {
    return this.settings.defaultBytes;
  }

  of(node: string): NodeCapacityView {
    const reports = this.deps.filesystems();
    const own = ownFilesystemNodes(reports).has(node);
    const free = own ? (reports.find((r) => r.node === node)?.freeBytes ?? null) : null;
    const usedBytes = this.deps.usedBytes(node);
    const registered = this.deps.registered(node);
    const configured = this.configuredOf(node);
    return {
      node,
      usedBytes,
      incomingBytes: this.incoming.get(node) ?? 0,
      statedBytes: registered ?? configured,
      ownFilesystem: own,
      ...nodeCapacity({ registeredBytes: registered, configuredBytes: configured, usedBytes, ownFilesystemFreeBytes: free }),
    };
  }

  capacityOf(node: string): number | null {
    return this.of(node).capacityBytes;
  }

  /** NODE_FULL unless `bytes` more (for `files` files) fit on the node now, counting what is already arriving. */
  assertRoom(node: string, bytes: number, files = 1): void {
    const v = this.of(node);
    const err = checkNodeRoom({
      node,
      capacityBytes: v.capacityBytes,
      usedBytes: v.usedBytes,
      incomingBytes: v.incomingBytes,
      needBytes: bytes,
      files,
    });
    if (err) throw err;
  }

  /** Whether `bytes` more fit on the node now. */
  hasRoom(node: string, bytes: number): boolean {
    const v = this.of(node);
    return v.capacityBytes === null || v.usedBytes + v.incomingBytes + bytes <= v.capacityBytes;
  }

  /**
   * Holds room for `bytes` on the node (NODE_FULL when they do not fit). Release it once the bytes are in the
   * file index (the index then counts them) or were not written after all.
   */
  reserve(node: string, bytes: number): RoomReservation {
    // A streamed upload starts from nothing and grows: even an over-full node takes an empty file.
    if (bytes > 0) this.assertRoom(node, bytes);
    let held = 0;
    let released = false;
    const add = (n: number) => {
      held += n;
      this.incoming.set(node, (this.incoming.get(node) ?? 0) + n);
    };
    add(bytes);
    const capacityOf = (n: string) => this.of(n);
    const incoming = this.incoming;
    return {
      node,
      get bytes() {
        return held;
      },
      grow(n: number) {
        if (released) return;
        const v = capacityOf(node);
        // The figures leave this reservation's own bytes out of "arriving": they are what the file needs.
        const err = checkNodeRoom({
          node,
          capacityBytes: v.capacityBytes,
          usedBytes: v.usedBytes,
          incomingBytes: v.incomingBytes - held,
          needBytes: held + n,
          streamed: true,
        });
        if (err) throw err;
        add(n);
      },
      release() {
        if (released) return;
        released = true;
        const left = (incoming.get(node) ?? 0) - held;
        if (left > 0) incoming.set(node, left);
        else incoming.delete(node);
      },
    };
  }
}
