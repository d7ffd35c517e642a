import { mkdirSync } from 'node:fs';

import { test as base, expect, type Page } from '@playwright/test';

import { AppShell } from './pages/app-shell.ts';
import { FilesPage } from './pages/files-page.ts';
import { LogsPage } from './pages/logs-page.ts';
import { OverviewPage } from './pages/overview-page.ts';
import { WorkloadPage } from './pages/workload-page.ts';
import { Api } from './support/api.ts';

interface Fixtures {
  api: Api;
  shell: AppShell;
  overview: OverviewPage;
  workload: WorkloadPage;
  logs: LogsPage;
  files: FilesPage;
}

export const test = base.extend<Fixtures>({
  api: async ({ request }, use) => use(new Api(request)),
  shell: async ({ page }, use) => use(new AppShell(page)),
  overview: async ({ page }, use) => use(new OverviewPage(page)),
  workload: async ({ page }, use) => use(new WorkloadPage(page)),
  logs: async ({ page }, use) => use(new LogsPage(page)),
  files: async ({ page }, use) => use(new FilesPage(page)),
});

export { expect };

const SCREENSHOT_DIR = 'test-results/screenshots';

/** A full-page picture of a view, kept after the run (test-results/screenshots/<name>.png) to look at. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}
