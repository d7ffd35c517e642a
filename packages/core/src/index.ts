export * from './errors.ts';
export * from './types.ts';
export * from './schemas.ts';
export * from './nodes.ts';
export * from './node-control.ts';
export * from './scheduler/plan.ts';
export * from './migration/index.ts';
export * from './ensemble.ts';
