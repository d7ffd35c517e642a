import { defineConfig } from 'drizzle-kit';

// Only `generate` is used: migrations are applied at runtime by createDb, never by `drizzle-kit push`,
// so the checked-in SQL is the single source of truth for every database file.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './migrations',
  strict: true,
  verbose: true,
});
