import { defineConfig } from 'vitest/config';

// Real Prometheus tier (`npm run test:prometheus`): Debian's prometheus (installed when missing, as root)
// scrapes the real zkha server (embedded ZooKeeper ensemble on free ports) with the compose deployment's
// prometheus.yml adapted to local ports. Fails, never skips, when Prometheus cannot be installed.
export default defineConfig({
  test: {
    include: ['src/prometheus.int.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    sequence: { shuffle: false },
  },
});
