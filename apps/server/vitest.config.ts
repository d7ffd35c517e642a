import { defineConfig } from 'vitest/config';

// Integration tests start real ZooKeeper JVMs: generous timeouts, one process per file.
export default defineConfig({
  // The real-Prometheus tier has its own config (vitest.prometheus.config.ts, `npm run test:prometheus`).
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/prometheus.int.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['src/bundles.global-setup.ts'],
  },
});
