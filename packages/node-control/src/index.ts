export * from './types.ts';
export * from './disabled.ts';
