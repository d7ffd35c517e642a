import { expect, saveScreenshot, test } from './fixtures.ts';
import { LogsPage } from './pages/logs-page.ts';

// The stress-then-schedule demo shows the seed's one move per round (and its auto_migrate line in the logs):
// the one_per_tick mode; whole_plan (the default) queues the whole plan instead, which the migrations spec covers.
test.beforeEach(async ({ api }) => {
  await api.mutation('scheduler.setConfig', { mode: 'one_per_tick' });
});
test.afterEach(async ({ api }) => {
  await api.mutation('scheduler.setConfig', { mode: 'whole_plan' });
});

test('stress 12 files on zk1 with the scheduler right after: counts and charts change, the migration tails live in the logs', async ({
  page,
  workload,
  api,
  browser,
  baseURL,
}) => {
  const before = await api.diagnostics();
  const lastMigration = (await api.operations({ action: 'auto_migrate', limit: 1 })).items[0]?.id ?? 0;

  // Another operator follows the logs with the live tail on (own context: own event streams).
  const other = await browser.newContext({ baseURL });
  try {
    const logs = new LogsPage(await other.newPage());
    await logs.goto();
    await logs.startLiveTail();

    await workload.goto();
    await expect(page.getByTestId('chart-files-now')).toContainText(`zk1 ${before.counts.zk1}`);
    await workload.fillStress({ node: 'zk1', files: '12', sizeKb: '16', trigger: true });
    // Hold the request so "disabled while in flight" is observable however fast the server is.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/trpc/workload.stress**', async (route) => {
      await held;
      await route.continue();
    });
    await workload.submit.click();
    await expect(workload.submit).toBeDisabled();
    release();
    await expect(page.getByTestId('stress-result')).toContainText('Created 12 files on zk1');
    await expect(page.getByTestId('stress-result')).toContainText('Scheduler moved');
    await expect(workload.submit).toBeEnabled();

    const after = await api.diagnostics();
    expect(after.totalFiles).toBe(before.totalFiles + 12);
    const now = ['zk1', 'zk2', 'zk3'].map((n) => `${n} ${after.counts[n]}`).join(' · ');
    // The live views follow: diagnostics table, the files chart's latest point, the progress bars, the tasks.
    await expect(workload.count('zk1')).toHaveText(String(after.counts.zk1));
    await expect(page.getByTestId('chart-files-now')).toHaveText(`Now: ${now}`);
    await expect(page.getByTestId('chart-delta-now')).toHaveText(`Now: delta ${after.delta}, threshold ${after.threshold}`);
    await expect(page.getByTestId('chart-migrations-total')).not.toHaveText(/^0 /);
    await expect(workload.progress.getByTestId('progress-job').first()).toHaveAttribute('data-finished', 'true');
    await expect(workload.progress).toContainText('Generating files 12/12');
    await expect(workload.tasks.getByRole('row').nth(1)).toContainText('done');
    await expect(page.getByTestId('chart-files').locator('svg .recharts-line').first()).toBeVisible();

    // The migration reached the other tab through the live tail, without a reload.
    const migration = (await api.operations({ action: 'auto_migrate', limit: 1 })).items[0]!;
    expect(migration.id).toBeGreaterThan(lastMigration);
    await expect(logs.row(migration.id)).toBeVisible();
    await expect(logs.row(migration.id)).toContainText('auto_migrate');
    await expect(logs.row(migration.id)).toContainText(`${String(migration.details.from)} → ${String(migration.details.to)}`);
    const details = await logs.expand(migration.id);
    await expect(details.getByTestId('operation-details')).toContainText('Before');
    await expect(details.getByTestId('operation-details')).toContainText('counts');

    await saveScreenshot(page, 'workload');
    await saveScreenshot(logs.page, 'logs');
  } finally {
    await other.close();
  }
});

test('the logs filter by action and page through older entries', async ({ page, logs, api }) => {
  await api.drain('zk1', 'filter check');
  await api.undrain('zk1');
  await logs.goto();
  await expect(logs.rows.first()).toBeVisible();

  await page.getByRole('textbox', { name: 'Action' }).click();
  await page.getByRole('option', { name: 'drain', exact: true }).click();
  await expect(logs.rows.first()).toHaveAttribute('data-action', 'drain');
  for (const action of await logs.rows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))) expect(action).toBe('drain');

  await page.getByRole('textbox', { name: 'Search' }).fill('no such text anywhere');
  await expect(page.getByText('No operations match these filters.')).toBeVisible();
});

test('scheduler settings: a higher threshold holds the scheduler back, in words', async ({ page, workload, api }) => {
  const original = (await api.diagnostics()).threshold;
  try {
    await workload.goto();
    const settings = page.getByRole('form', { name: 'Scheduler settings' });
    await settings.getByLabel('Threshold (files)').fill('0');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(settings.getByText('must be at least 1')).toBeVisible();

    await settings.getByLabel('Threshold (files)').fill('500');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.locator('.mantine-Notification-root').filter({ hasText: 'Scheduler settings saved' })).toBeVisible();
    await expect(workload.diagnostics.getByTestId('diag-delta')).toHaveText(/\/ 500$/);
    await expect(workload.diagnostics.getByTestId('diag-message')).toContainText('threshold 500');
    expect((await api.diagnostics()).threshold).toBe(500);
    await saveScreenshot(page, 'workload-threshold');
  } finally {
    await api.mutation('scheduler.setConfig', { threshold: original });
  }
});

test('the demo workload generator: configure a 1 s tick, start it, watch ticks and files grow, stop it', async ({ page, workload, api, shell }) => {
  const original = await api.query<{ intervalSec: number; maxFiles: number; minSizeKb: number; maxSizeKb: number; extraClients: number }>('workload.state');
  try {
    await workload.goto();
    await expect(workload.generatorStat('status')).toHaveText('off');

    // The browser refuses what the server would.
    await workload.configureGenerator({ 'Interval (s)': '0' });
    await expect(workload.generatorForm.getByText('must be at least 1')).toBeVisible();

    await workload.configureGenerator({ 'Interval (s)': '1', 'Max files': '6', 'Min size (KiB)': '1', 'Max size (KiB)': '2', 'Extra clients': '1' });
    await expect(await shell.toast('Workload settings saved')).toBeVisible();
    await expect(workload.generatorForm.getByLabel('Interval (s)')).toHaveValue('1');

    const switchControl = workload.generator.getByRole('switch', { name: 'Generate' });
    await switchControl.click();
    await expect(switchControl).toBeChecked();
    await expect(workload.generatorStat('status')).toHaveText('running');
    await expect(workload.generatorStat('ticks')).toHaveText(/^[2-9]|^\d{2,}/, { timeout: 15_000 });
    await expect(workload.generatorStat('files')).not.toHaveText(/^0 \//, { timeout: 15_000 });
    await expect(workload.generatorStat('sessions')).toHaveText('1 / 1');
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, 'workload-generator');

    await switchControl.click();
    await expect(switchControl).not.toBeChecked();
    await expect(workload.generatorStat('status')).toHaveText('off');
    await expect(await shell.toast('Workload generator stopped')).toBeVisible();
    const stopped = await api.query<{ running: boolean; ticks: number }>('workload.state');
    expect(stopped.running).toBe(false);
    await expect(workload.generatorStat('ticks')).toHaveText(String(stopped.ticks));
  } finally {
    await api.mutation('workload.stop');
    const { intervalSec, maxFiles, minSizeKb, maxSizeKb, extraClients } = original;
    await api.mutation('workload.configure', { intervalSec, maxFiles, minSizeKb, maxSizeKb, extraClients });
  }
});
