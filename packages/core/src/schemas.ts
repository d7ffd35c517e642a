/**
 * zod schemas shared by the server (tRPC + REST) and the clients (web, SDK, CLI): one definition
 * of what a valid request is, so every entry point rejects the same bad input with the same words.
 * This entry point must stay free of Node-only imports: the browser bundle imports it.
 * One file per domain under schemas/; this file only gathers them (it is also `@zkha/core/schemas`).
 */
export * from './schemas/shared.ts';
export * from './schemas/files.ts';
export * from './schemas/workload.ts';
export * from './schemas/scheduler.ts';
export * from './schemas/nodes.ts';
export * from './schemas/migrations.ts';
export * from './schemas/logs.ts';
export * from './schemas/ensemble.ts';
export * from './schemas/znodes.ts';
