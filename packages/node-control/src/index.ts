export * from './types.ts';
export * from './docker.ts';
export * from './disabled.ts';
