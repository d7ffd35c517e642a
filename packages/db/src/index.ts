export { createDb, MIGRATIONS_FOLDER, type CreateDbOptions, type Database, type Db } from './client.ts';
export * from './schema.ts';
export * from './repositories/files.ts';
export * from './repositories/operations.ts';
export * from './repositories/tasks.ts';
export * from './repositories/node-states.ts';
export { escapeLike, nowIso } from './repositories/util.ts';
export * from './repositories/stores.ts';
export * from './repositories/migrations.ts';
