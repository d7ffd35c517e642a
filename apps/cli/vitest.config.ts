import { defineConfig } from 'vitest/config';

// The tests run the CLI against a real server (ZooKeeper JVMs): generous timeouts, one process per file.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks' },
});
