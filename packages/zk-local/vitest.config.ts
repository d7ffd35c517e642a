import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Real JVMs: starting an ensemble takes seconds, a failover a few more.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes (the JVMs) belong to a real process that can clean up on exit, not a worker thread.
    pool: 'forks',
  },
});
