import { defineConfig } from 'vitest/config';

// Unit tier: pure logic and static checks of docker/ (dashboards, compose file). The real-engine and
// real-Prometheus tiers have their own configs (vitest.docker.config.ts, vitest.prometheus.config.ts).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.int.test.ts', 'node_modules/**'],
  },
});
