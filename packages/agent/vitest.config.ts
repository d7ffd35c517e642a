import { defineConfig } from 'vitest/config';

// Integration tests start real ZooKeeper JVMs: generous timeouts, one process per file.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks' },
});
