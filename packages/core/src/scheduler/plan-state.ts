/**
 * The planner's working state: every node's role, value and room, every file's size and place, lazy per-source
 * indexes (newest first, by size), and the moves made so far, packed in typed arrays. planner.ts drives it
 * (evacuate, then balance) and reads the report out of it.
 */
import { AppError } from '../errors.ts';
import { formatBytes, formatNumber } from '../format.ts';
import { byBytes, describeGap, describeValue, normOf, thresholdInUnit, UNIT_OF, type BalanceUnit, type StrategyName } from './balance.ts';
import { parseCreated, SizeIndex } from './file-order.ts';
import {
  DEFAULT_HIGH_WATERMARK,
  type BalanceFile,
  type BalanceNode,
  type BalanceRole,
  type NodeBalance,
  type PlanMovesInput,
  type PlannedMove,
} from './planner-types.ts';

/**
 * Each node once (the first entry of a name wins), with its capacity, its role under the strategy, the norm that
 * turns its quantity into its value, and the bytes it may hold; then which nodes count and which must be emptied.
 */
function layOutNodes(
  input: readonly BalanceNode[],
  strategy: StrategyName,
  highWatermark: number,
): Pick<PlanState, 'nodes' | 'capacity' | 'norm' | 'role' | 'limit' | 'sched' | 'toEmpty'> & { indexOf: Map<string, number> } {
  const indexOf = new Map<string, number>();
  const nodes: BalanceNode[] = [];
  for (const n of input) {
    if (indexOf.has(n.node)) continue;
    indexOf.set(n.node, nodes.length);
    nodes.push(n);
  }
  const k = nodes.length;
  const capacity = nodes.map((n) => (n.capacityBytes !== null && n.capacityBytes > 0 ? n.capacityBytes : null));
  const norm = new Float64Array(k).fill(1);
  const role = nodes.map((n, i): BalanceRole => {
    if (n.offline) return 'offline';
    if (n.drained) return 'drained';
    const d = normOf(strategy, n);
    if (d === null) return strategy === 'weighted' ? 'weight_zero' : 'no_capacity';
    norm[i] = d;
    return 'schedulable';
  });
  const limit = new Float64Array(k);
  const sched: number[] = [];
  const toEmpty: number[] = [];
  for (let i = 0; i < k; i++) {
    limit[i] = capacity[i] === null ? Infinity : highWatermark * capacity[i]!;
    if (role[i] === 'schedulable') sched.push(i);
    else if (role[i] === 'drained' || role[i] === 'weight_zero') toEmpty.push(i);
  }
  return { indexOf, nodes, capacity, norm, role, limit, sched, toEmpty };
}

export class PlanState {
  readonly strategy: StrategyName;
  readonly unit: BalanceUnit;
  readonly bytesLike: boolean;
  readonly highWatermark: number;
  readonly files: readonly BalanceFile[];

  // ---- nodes (k of them) ----
  readonly nodes: BalanceNode[];
  readonly k: number;
  readonly role: BalanceRole[];
  readonly capacity: (number | null)[];
  /** Divides a node's quantity into its value (balance.ts normOf); 1 for nodes not counted. */
  readonly norm: Float64Array;
  /** Bytes a node may hold: highWatermark × capacity, or Infinity. */
  readonly limit: Float64Array;
  /** Nodes whose values make the spread, and nodes that must be emptied. */
  readonly sched: number[];
  readonly toEmpty: number[];
  readonly anyLimit: boolean;

  // ---- per-node totals, kept in step by every move ----
  readonly count: Float64Array;
  readonly bytes: Float64Array;
  readonly movable: Int32Array;
  readonly inFlight: Int32Array;
  readonly countBefore: Float64Array;
  readonly bytesBefore: Float64Array;
  /** Each node's value (count or bytes over norm): the loop reads it for every node on every move. */
  readonly vals: Float64Array;
  readonly unknownNodes = new Map<string, number>();
  readonly countedFiles: number;
  /** The threshold in the unit (bytes: threshold × the mean file size). */
  readonly thr: number;

  // ---- files (n of them) ----
  readonly size: Float64Array;
  /** Node index of each movable file, -1 for files that stay (offline node, in flight, unknown node). */
  private readonly nodeOf: Int32Array;
  private readonly taken: Uint8Array;

  // ---- the moves, packed: file, source, target, and the reason's index in `reasons` ----
  readonly moveFile: Int32Array;
  readonly moveFrom: Int32Array;
  readonly moveTo: Int32Array;
  readonly moveWhy: Int32Array;
  readonly reasons: string[] = [];
  moveCount = 0;
  bytesToMove = 0;
  readonly movesOut: Int32Array;
  readonly movesIn: Int32Array;
  readonly hold: (NodeBalance['hold'] | null)[];
  /** One reason per (source, target) pair: 100,000 near-identical strings would cost more than the plan. */
  private readonly reasonOfPair: Int32Array;

  constructor(input: PlanMovesInput) {
    this.strategy = input.strategy;
    this.unit = UNIT_OF[input.strategy];
    this.bytesLike = byBytes(input.strategy);
    this.highWatermark = input.highWatermark ?? DEFAULT_HIGH_WATERMARK;
    this.files = input.files;

    const layout = layOutNodes(input.nodes, this.strategy, this.highWatermark);
    const { indexOf } = layout;
    this.nodes = layout.nodes;
    const k = (this.k = this.nodes.length);
    this.capacity = layout.capacity;
    this.norm = layout.norm;
    this.role = layout.role;
    this.limit = layout.limit;
    this.sched = layout.sched;
    this.toEmpty = layout.toEmpty;
    this.anyLimit = this.sched.some((i) => Number.isFinite(this.limit[i]!));

    const n = this.files.length;
    this.size = new Float64Array(n);
    this.nodeOf = new Int32Array(n).fill(-1);
    this.taken = new Uint8Array(n);
    this.count = new Float64Array(k);
    this.bytes = new Float64Array(k);
    this.movable = new Int32Array(k);
    this.inFlight = new Int32Array(k);
    this.scanFiles(indexOf, input.excludeFiles);
    this.countBefore = this.count.slice();
    this.bytesBefore = this.bytes.slice();

    let countedFiles = 0;
    let countedBytes = 0;
    for (const i of [...this.sched, ...this.toEmpty]) {
      countedFiles += this.count[i]!;
      countedBytes += this.bytes[i]!;
    }
    this.countedFiles = countedFiles;
    this.thr = thresholdInUnit(this.strategy, input.threshold, countedFiles > 0 ? countedBytes / countedFiles : 0);
    const q = this.bytesLike ? this.bytes : this.count;
    this.vals = new Float64Array(k);
    for (let i = 0; i < k; i++) this.vals[i] = q[i]! / this.norm[i]!;

    this.moveFile = new Int32Array(n);
    this.moveFrom = new Int32Array(n);
    this.moveTo = new Int32Array(n);
    this.moveWhy = new Int32Array(n);
    this.movesOut = new Int32Array(k);
    this.movesIn = new Int32Array(k);
    this.hold = new Array<NodeBalance['hold'] | null>(k).fill(null);
    this.reasonOfPair = new Int32Array(k * k).fill(-1);
    this.sizeIndexes = new Array<SizeIndex | null>(k).fill(null);
    this.newest = new Array<Int32Array | null>(k).fill(null);
    this.cursor = new Int32Array(k);
    this.positionOf = new Int32Array(n);
  }

  /** Per-node totals, and which files may move. */
  private scanFiles(indexOf: ReadonlyMap<string, number>, exclude: ReadonlySet<string> | undefined): void {
    const { files, size, count, bytes, movable, inFlight, nodeOf, role } = this;
    const excluding = exclude !== undefined && exclude.size > 0;
    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      const i = indexOf.get(file.node);
      if (i === undefined) {
        this.unknownNodes.set(file.node, (this.unknownNodes.get(file.node) ?? 0) + 1);
        continue;
      }
      const s = file.sizeBytes;
      if (!(s >= 0) || s === Infinity) throw new AppError('BAD_INPUT', `file ${file.uuid} has an invalid size ${s}`);
      size[f] = s;
      count[i]! += 1;
      bytes[i]! += s;
      const r = role[i]!;
      if (r === 'offline' || r === 'no_capacity') continue;
      if (excluding && exclude.has(file.uuid)) {
        inFlight[i]! += 1;
        continue;
      }
      movable[i]! += 1;
      nodeOf[f] = i;
    }
  }

  value(i: number): number {
    return this.vals[i]!;
  }

  room(i: number): number {
    return this.limit[i]! - this.bytes[i]!;
  }

  /** The values of the nodes that make the spread. */
  schedValues(): number[] {
    return this.sched.map((i) => this.vals[i]!);
  }

  movableLeftToEmpty(): number {
    return this.toEmpty.reduce((a, i) => a + this.movable[i]!, 0);
  }

  /** The schedulable node (≠ s) of lowest value with room for `need` bytes; ties go to the first configured. */
  lowestWithRoom(s: number, need: number): number {
    let t = -1;
    let least = Infinity;
    for (const i of this.sched) {
      if (i === s || (this.anyLimit && this.room(i) < need)) continue;
      const v = this.vals[i]!;
      if (v < least) {
        least = v;
        t = i;
      }
    }
    return t;
  }

  // ---- lazy per-source indexes: built the first time a node gives files ----
  private poolStart: Int32Array | null = null;
  private pool: Int32Array | null = null;
  private readonly sizeIndexes: (SizeIndex | null)[];
  private readonly newest: (Int32Array | null)[];
  private readonly cursor: Int32Array;
  private readonly positionOf: Int32Array;

  /** Movable files of node i not moved yet, in input order. */
  private untakenOf(i: number): Int32Array {
    if (this.pool === null || this.poolStart === null) {
      const poolStart = (this.poolStart = new Int32Array(this.k + 1));
      for (let j = 0; j < this.k; j++) poolStart[j + 1] = poolStart[j]! + this.movable[j]!;
      const pool = (this.pool = new Int32Array(poolStart[this.k]!));
      const fill = poolStart.slice(0, this.k);
      for (let f = 0; f < this.nodeOf.length; f++) {
        const j = this.nodeOf[f]!;
        if (j >= 0) pool[fill[j]!++] = f;
      }
    }
    // A plain loop: TypedArray.prototype.filter is several times slower over 100,000 files.
    const from = this.poolStart[i]!;
    const to = this.poolStart[i + 1]!;
    const out = new Int32Array(to - from);
    let c = 0;
    for (let p = from; p < to; p++) if (this.taken[this.pool[p]!] === 0) out[c++] = this.pool[p]!;
    return c === out.length ? out : out.slice(0, c);
  }

  sizeIndex(i: number): SizeIndex {
    return (this.sizeIndexes[i] ??= new SizeIndex(this.untakenOf(i), this.size, this.positionOf));
  }

  smallestOf(i: number): number {
    return this.sizeIndex(i).smallestAbove(-1);
  }

  /** The newest movable file of node i not moved yet (the seed's candidate), or -1. */
  newestOf(i: number): number {
    let list = this.newest[i];
    if (list == null) {
      list = this.untakenOf(i);
      const created = new Float64Array(list.length);
      let sorted = true;
      for (let p = 0; p < list.length; p++) {
        created[p] = parseCreated(this.files[list[p]!]!.createdAt);
        if (p > 0 && created[p]! > created[p - 1]!) sorted = false;
      }
      // The file index hands files over newest first: then there is nothing to sort.
      if (!sorted) {
        const at = new Map<number, number>();
        for (let p = 0; p < list.length; p++) at.set(list[p]!, created[p]!);
        list.sort((a, b) => at.get(b)! - at.get(a)! || a - b);
      }
      this.newest[i] = list;
    }
    let c = this.cursor[i]!;
    while (c < list.length && this.taken[list[c]!] === 1) c++;
    this.cursor[i] = c;
    return c < list.length ? list[c]! : -1;
  }

  /** Moves file f from s to t: every figure follows, and the move is recorded with its pair's reason. */
  move(f: number, s: number, t: number, reason: (s: number, t: number) => string): void {
    const x = this.size[f]!;
    this.taken[f] = 1;
    this.sizeIndexes[s]?.remove(this.positionOf[f]!);
    this.movable[s]! -= 1;
    this.count[s]! -= 1;
    this.bytes[s]! -= x;
    this.count[t]! += 1;
    this.bytes[t]! += x;
    this.movesOut[s]! += 1;
    this.movesIn[t]! += 1;
    const q = this.bytesLike ? this.bytes : this.count;
    this.vals[s] = q[s]! / this.norm[s]!;
    this.vals[t] = q[t]! / this.norm[t]!;
    this.bytesToMove += x;
    const key = s * this.k + t;
    if (this.reasonOfPair[key] === -1) this.reasonOfPair[key] = this.reasons.push(reason(s, t)) - 1;
    const j = this.moveCount++;
    this.moveFile[j] = f;
    this.moveFrom[j] = s;
    this.moveTo[j] = t;
    this.moveWhy[j] = this.reasonOfPair[key]!;
  }

  /** Move j as the API shows it. */
  moveAt(j: number): PlannedMove {
    const f = this.moveFile[j]!;
    const file = this.files[f]!;
    return {
      uuid: file.uuid,
      name: file.name,
      from: this.nodes[this.moveFrom[j]!]!.node,
      to: this.nodes[this.moveTo[j]!]!.node,
      sizeBytes: this.size[f]!,
      reason: this.reasons[this.moveWhy[j]!]!,
    };
  }

  // ---- words ----
  name(i: number): string {
    return this.nodes[i]!.node;
  }

  /** Node i's value in words: "12 files", "1.5 MiB", "42.0%". */
  val(i: number): string {
    return describeValue(this.unit, this.vals[i]!, formatBytes);
  }

  gap(x: number): string {
    return describeGap(this.unit, x, formatBytes);
  }

  get thresholdWords(): string {
    return `threshold ${this.gap(this.thr)}`;
  }

  get watermarkWords(): string {
    return `the ${formatNumber(this.highWatermark * 100)}% high watermark`;
  }
}
