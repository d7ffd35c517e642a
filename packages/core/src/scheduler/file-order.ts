/** Per-node file indexes the planner uses: by size (near-constant picks) and creation time (fast ISO parsing). */

/**
 * Files of one node sorted by size, with "the largest not yet taken at most x" and "the smallest not yet
 * taken above x" in near-constant time: two union-find arrays skip taken positions (path compression), so a
 * plan that takes 100,000 files never rescans the sorted array.
 */
export class SizeIndex {
  readonly order: Int32Array;
  readonly sizes: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;

  /** `files` (file indices, ascending) is sorted in place. */
  constructor(files: Int32Array, size: Float64Array, positionOf: Int32Array) {
    const sorted = sortBySize(files, size);
    const m = sorted.length;
    this.order = sorted;
    this.sizes = new Float64Array(m);
    this.left = new Int32Array(m);
    this.right = new Int32Array(m + 1);
    for (let p = 0; p < m; p++) {
      const f = sorted[p]!;
      this.sizes[p] = size[f]!;
      this.left[p] = p;
      this.right[p] = p;
      positionOf[f] = p;
    }
    this.right[m] = m;
  }

  remove(p: number): void {
    this.left[p] = p - 1;
    this.right[p] = p + 1;
  }

  /** The file with the largest size ≤ x not yet taken, or -1. */
  largestAtMost(x: number): number {
    const p = this.findLeft(this.upperBound(x) - 1);
    return p < 0 ? -1 : this.order[p]!;
  }

  /**
   * Both neighbours of x in one search: the largest file ≤ x and the smallest file > x, not yet taken (-1
   * where there is none). The planner asks for both on every move of a byte strategy.
   */
  around(x: number): void {
    const ub = this.upperBound(x);
    const l = this.findLeft(ub - 1);
    const r = this.findRight(ub);
    this.atMost = l < 0 ? -1 : this.order[l]!;
    this.above = r >= this.order.length ? -1 : this.order[r]!;
  }

  /** `around`'s answers, in fields rather than a fresh array: it runs once per move, up to 100,000 times a plan. */
  atMost = -1;
  above = -1;

  /** The file with the smallest size > x not yet taken, or -1. */
  smallestAbove(x: number): number {
    const p = this.findRight(this.upperBound(x));
    return p >= this.order.length ? -1 : this.order[p]!;
  }

  /** First position whose size is > x. */
  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private findLeft(start: number): number {
    let r = start;
    while (r >= 0 && this.left[r] !== r) r = this.left[r]!;
    let i = start;
    while (i >= 0 && this.left[i] !== i) {
      const next = this.left[i]!;
      this.left[i] = r;
      i = next;
    }
    return r;
  }

  private findRight(start: number): number {
    let r = start;
    while (this.right[r] !== r) r = this.right[r]!;
    let i = start;
    while (this.right[i] !== i) {
      const next = this.right[i]!;
      this.right[i] = r;
      i = next;
    }
    return r;
  }
}

/**
 * `files` (ascending indices) ordered by size, ties by index. A numeric sort of packed keys (size × m + rank)
 * runs several times faster than a comparator sort over 100,000 files; sizes too large to pack exactly fall
 * back to the comparator.
 */
function sortBySize(files: Int32Array, size: Float64Array): Int32Array {
  const m = files.length;
  let largest = 0;
  let whole = true;
  for (let p = 0; p < m; p++) {
    const x = size[files[p]!]!;
    if (x > largest) largest = x;
    if (!Number.isInteger(x)) whole = false;
  }
  if (!whole || (largest + 1) * m >= Number.MAX_SAFE_INTEGER) {
    return files.sort((a, b) => size[a]! - size[b]! || a - b);
  }
  const keys = new Float64Array(m);
  for (let p = 0; p < m; p++) keys[p] = size[files[p]!]! * m + p;
  keys.sort();
  const out = new Int32Array(m);
  for (let p = 0; p < m; p++) out[p] = files[keys[p]! % m]!;
  return out;
}

/** The decimal number written by `count` digits of `s` from `at`. */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let j = at; j < at + count; j++) v = v * 10 + (s.charCodeAt(j) - 48);
  return v;
}

/**
 * Epoch milliseconds of a creation time. The canonical `toISOString()` form (what the store writes) is read
 * digit by digit, several times faster than Date.parse over 100,000 files; anything else goes to Date.parse.
 */
export function parseCreated(value: string | number): number {
  if (typeof value === 'number') return value;
  let t: number;
  if (value.length === 24 && value.charCodeAt(23) === 90 && value.charCodeAt(10) === 84 && value.charCodeAt(19) === 46) {
    const day = Date.UTC(digits(value, 0, 4), digits(value, 5, 2) - 1, digits(value, 8, 2));
    t = day + ((digits(value, 11, 2) * 60 + digits(value, 14, 2)) * 60 + digits(value, 17, 2)) * 1000 + digits(value, 20, 3);
  } else {
    t = Date.parse(value);
  }
  return Number.isNaN(t) ? -Infinity : t;
}
