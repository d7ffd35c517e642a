import { defineConfig } from '@playwright/test';

import { freeServerPorts, portsEnv } from './e2e/support/ports.ts';

// Free ports are chosen once, by the first process that loads this file; workers load it again and must
// see the same server, so the choice travels in the environment they inherit.
if (!process.env.ZKHA_E2E_PORT) {
  Object.assign(process.env, portsEnv(await freeServerPorts()));
}
const port = Number(process.env.ZKHA_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    browserName: 'chromium',
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    // Build the console, then run the real server (embedded ensemble, temp data) as one process.
    command: 'npm run build -w @zkha/web && exec node --import tsx e2e/server.ts',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    // The ZKHA_E2E_* ports above are inherited from process.env.
    env: { AUTO_SCHEDULER_ENABLED: 'false' },
  },
});
