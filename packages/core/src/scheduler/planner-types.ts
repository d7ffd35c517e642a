/** The planner's shapes: its input (nodes, files, settings) and its whole plan. */
import type { BalanceUnit, StrategyName } from './balance.ts';

export interface BalanceNode {
  node: string;
  /** Drained nodes are emptied (every movable file leaves) and never receive files. */
  drained: boolean;
  /** Offline nodes are neither source nor target: their files stay where they are. */
  offline: boolean;
  /** Total capacity; null when unknown (no watermark then, and no place in the utilization strategy). */
  capacityBytes: number | null;
  /** Relative share for the `weighted` strategy; default 1, 0 means "hold nothing". */
  weight?: number;
}

/** The few fields of a file the planner needs. */
export interface BalanceFile {
  uuid: string;
  name: string;
  node: string;
  sizeBytes: number;
  /** ISO timestamp or epoch milliseconds; the count strategies move the newest files first. */
  createdAt: string | number;
}

export interface PlannedMove {
  uuid: string;
  name: string;
  from: string;
  to: string;
  sizeBytes: number;
  /** Why this move, in words, with the numbers as they were just before it. */
  reason: string;
}

/**
 * - `schedulable`: may hold files; its value counts in the spread;
 * - `drained` / `weight_zero`: must be emptied, never a target;
 * - `offline` / `no_capacity`: left alone, not counted.
 */
export type BalanceRole = 'schedulable' | 'drained' | 'weight_zero' | 'offline' | 'no_capacity';

/** Why a node could not give or take more than it did (null: nothing held it back). */
export type HoldCode = 'all_in_flight' | 'over_watermark' | 'unreachable' | 'nowhere_to_go';

export interface NodeBalance {
  node: string;
  role: BalanceRole;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Fractions 0–1 of capacity; null when the capacity is unknown. */
  utilizationBefore: number | null;
  utilizationAfter: number | null;
  /** The node's value in the plan's unit; null for nodes not counted in the spread. */
  valueBefore: number | null;
  valueAfter: number | null;
  movesOut: number;
  movesIn: number;
  /** Files on it that are already being moved (counted, not picked). */
  inFlight: number;
  /** Set when the node cannot give or take what balance needs, with the words. */
  hold: { code: HoldCode; message: string } | null;
}

export interface WholePlan {
  strategy: StrategyName;
  unit: BalanceUnit;
  /** The setting as given (files; average file sizes for bytes; points for utilization). */
  threshold: number;
  /** The threshold in `unit`: the spread must stay below it. */
  thresholdInUnit: number;
  highWatermark: number;
  /**
   * Every move, in order. Built on first read (a plan of 90,000 moves is mostly the cost of these objects, and
   * the diagnostics never read them): use `moveCount` and `firstMove` when they are enough.
   */
  moves: PlannedMove[];
  moveCount: number;
  firstMove: PlannedMove | null;
  bytesToMove: number;
  nodes: NodeBalance[];
  /** max − min of the values of the schedulable nodes, in `unit`, before and after the moves. */
  spreadBefore: number;
  spreadAfter: number;
  /** The rule of balance.ts before and after the moves. */
  balancedBefore: boolean;
  balanced: boolean;
  /** Why some imbalance remains or some files stay put (offline nodes, watermarks, files in flight...). */
  blocked: string[];
}

export interface PlanMovesInput {
  strategy: StrategyName;
  nodes: readonly BalanceNode[];
  files: readonly BalanceFile[];
  /** See balance.ts for its unit per strategy. */
  threshold: number;
  /** Never fill a node past this fraction of its capacity (when known). Default 0.9. */
  highWatermark?: number;
  /** Files already being moved: they count where they are but are not picked again. */
  excludeFiles?: ReadonlySet<string>;
}

/** The default share of its capacity no move fills a node past. */
export const DEFAULT_HIGH_WATERMARK = 0.9;
