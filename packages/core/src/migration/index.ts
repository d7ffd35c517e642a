/** The migration engine's pure domain: whole-plan balancing, task ordering and admission, throttling, adaptive caps, capacity planning. */
export * from './strategies.ts';
export * from './queue.ts';
export * from './token-bucket.ts';
export * from './adaptive.ts';
export * from './capacity.ts';
