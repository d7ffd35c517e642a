import { defineConfig } from 'vitest/config';

// Unit tier: pure logic and static checks of docker/ (dashboards, compose file). The real-engine and
// Docker tier has its own config (vitest.docker.config.ts); the real-Prometheus tier lives in apps/server.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.int.test.ts', 'node_modules/**'],
  },
});
