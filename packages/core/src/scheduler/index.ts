/** The scheduler's pure domain: the definition of balance, the one planner, and its per-node explanation. */
export * from './balance.ts';
export * from './planner.ts';
export * from './plan.ts';
