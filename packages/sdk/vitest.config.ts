import { defineConfig } from 'vitest/config';

// The integration tests boot a real server (ZooKeeper JVMs): generous timeouts, one process per file.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks' },
});
