/** The migration engine's pure domain: task ordering and admission, throttling, adaptive caps, capacity planning, an operator's own moves. */
export * from './queue.ts';
export * from './token-bucket.ts';
export * from './adaptive.ts';
export * from './capacity.ts';
export * from './manual-move.ts';
