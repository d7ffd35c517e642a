import { expect, saveScreenshot, test } from './fixtures.ts';
import { MigrationsPage } from './pages/migrations-page.ts';
import type { RouterOutputs } from '@zkha/sdk';

import type { Api } from './support/api.ts';

// The server's own types (the same the console and the SDK use), never restated here.
type Caps = RouterOutputs['migrations']['caps']['caps'];
type Plan = RouterOutputs['migrations']['plan'];
type Progress = RouterOutputs['migrations']['progress'];
type LifecycleView = RouterOutputs['nodes']['lifecycle'][number];

/** Every spec leaves the queue empty and the caps as it found them: the server is shared by all specs. */
async function withCleanQueue(api: Api, body: (caps: Caps) => Promise<void>): Promise<void> {
  await api.mutation('migrations.cancel', {});
  const { caps } = await api.query<{ caps: Caps }>('migrations.caps');
  try {
    await body(caps);
  } finally {
    await api.mutation('migrations.cancel', {});
    await api.mutation('migrations.resume', {});
    await api.mutation('migrations.setCaps', caps);
  }
}

test('skew files onto zk1, dry-run the plan, cap the bandwidth, queue it, watch it, pause, resume, cancel all', async ({
  page,
  api,
  shell,
  browser,
  baseURL,
}) => {
  // A long flow with two tabs: on a loaded two-core machine it can need more than the default minute.
  test.setTimeout(120_000);
  await withCleanQueue(api, async () => {
    // Enough 1 MiB files for a queue that outlasts the test under the cap (the count strategy leaves up to
    // threshold files over a node's share); the engine reports progress every 512 KiB of a copy.
    await api.stress({ node: 'zk1', files: 30, size_kb: 1024 });
    const filesBefore = await api.filesTotal();
    const expected = await api.query<Plan>('migrations.plan', { strategy: 'count' });
    expect(expected.moves.length).toBeGreaterThan(0);
    expect(expected.moves.every((m) => m.from === 'zk1')).toBe(true);

    const migrations = new MigrationsPage(page);
    await migrations.goto();
    await migrations.chooseStrategy('Count');
    const moves = expected.moves.length;
    await expect(migrations.plan.getByTestId('plan-move-count')).toHaveText(String(moves));
    await expect(migrations.plan.getByTestId('plan-move')).toHaveCount(Math.min(moves, 50));
    await expect(migrations.plan.getByTestId('plan-move').first()).toContainText('zk1 →');
    const zk1 = expected.nodes.find((n) => n.node === 'zk1')!;
    await expect(migrations.planNode('zk1').getByTestId('files')).toHaveText(`${zk1.countBefore} → ${zk1.countAfter}`);
    // The spread (max − min, in files for count) narrows below the threshold; zk1's value falls with its files.
    await expect(migrations.plan.getByTestId('plan-spread')).toHaveText(/^\d+ files → \d+ files?$/);
    await expect(migrations.plan.getByTestId('plan-threshold')).toHaveText(/^below \d+ files?$/);
    await expect(migrations.planNode('zk1').getByTestId('value')).toHaveText(
      `${zk1.countBefore} files → ${zk1.countAfter} ${zk1.countAfter === 1 ? 'file' : 'files'}`,
    );
    await expect(migrations.plan.getByTestId('plan-status')).toHaveText('moves balance it');

    // A second operator watches the same view (own context: own event streams).
    const other = await browser.newContext({ baseURL });
    try {
      const watcher = new MigrationsPage(await other.newPage());
      await watcher.goto();

      // A bandwidth cap of 256 KiB/s per node, applied while nothing runs yet; the other tab follows.
      await migrations.fillCaps({ 'Bandwidth per node': '256' }, 'KiB/s');
      await migrations.saveCaps();
      await expect(await shell.toast('Migration caps saved')).toBeVisible();
      expect((await api.query<{ caps: Caps }>('migrations.caps')).caps.bandwidthBytesPerSec).toBe(256 * 1024);
      await expect(watcher.capsInput('Bandwidth per node')).toHaveValue('256');
      await expect(page.getByTestId('cap-changes')).toContainText('bandwidth 256 KiB/s');

      // Queue it at priority 7; the request is held so "disabled while in flight" is observable.
      await migrations.enqueueForm.getByRole('textbox', { name: 'Priority' }).fill('7');
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/trpc/migrations.enqueue**', async (route) => {
        await held;
        await route.continue();
      });
      const queueButton = migrations.queueButton;
      await expect(queueButton).toHaveText(new RegExp(`^Queue ${moves} moves?`));
      await queueButton.click();
      await expect(migrations.enqueueForm.getByRole('button', { name: /^Queue/ })).toBeDisabled();
      release();
      await expect(await shell.toast(`Queued ${moves} move`)).toBeVisible();
      await page.unroute('**/trpc/migrations.enqueue**');

      // The queue: every move as a task, copies running under the caps (zk1 sends 2 at a time), the rest waiting.
      // (Copies finish meanwhile, so the rows are compared with the server's open tasks, not with the plan.)
      await expect
        .poll(async () => (await migrations.tasks.count()) - Math.min(100, (await api.query<Progress>('migrations.progress')).tasks.length))
        .toBe(0);
      await expect(migrations.queue.locator('[data-status="running"]').first()).toBeVisible();
      await expect(migrations.tasks.first()).toContainText('priority 7');
      if (moves > 2) await expect(migrations.waitReasons.getByTestId('wait-cap_source')).toContainText('Source node at its outgoing cap');
      // Plans count queued files on their targets: with the whole plan queued, there is nothing more to queue.
      await expect(migrations.enqueueForm.getByRole('button', { name: /^Nothing to queue/ })).toBeVisible();

      // Progress bars advance, on both tabs, with no reload.
      await expect.poll(() => migrations.totalsPercent(), { timeout: 20_000 }).toBeGreaterThan(0);
      const first = await migrations.totalsPercent();
      await expect.poll(() => migrations.totalsPercent(), { timeout: 20_000 }).toBeGreaterThan(first);
      await expect(migrations.totals.getByTestId('totals-rate')).not.toHaveText('—');
      await expect(migrations.totals.getByTestId('totals-eta')).not.toHaveText('—');
      await expect(migrations.queue.locator('[data-status="running"]').first().getByTestId('task-bytes')).toContainText('ETA');
      await expect(watcher.tasks.first()).toBeVisible();
      await expect.poll(() => watcher.totalsPercent(), { timeout: 20_000 }).toBeGreaterThan(0);

      // Pause one waiting task, then resume it.
      if (moves > 2) {
        const id = await migrations.taskId('pending', 'last');
        await migrations
          .task(id)
          .getByRole('button', { name: new RegExp(`^Pause task #${id} `) })
          .click();
        await expect(migrations.task(id)).toHaveAttribute('data-status', 'paused');
        await expect(await shell.toast(`Task #${id} paused`)).toBeVisible();
        await expect(migrations.waitReasons.getByTestId('wait-paused')).toContainText('1 × Paused by an operator');
        await expect(watcher.task(id)).toHaveAttribute('data-status', 'paused');
        await migrations
          .task(id)
          .getByRole('button', { name: new RegExp(`^Resume task #${id} `) })
          .click();
        await expect(migrations.task(id)).not.toHaveAttribute('data-status', 'paused');
        await expect(await shell.toast(`Task #${id} resumed`)).toBeVisible();
      }

      // Pause the whole queue: copies under way finish, nothing new starts; then resume.
      await migrations.totals.getByRole('button', { name: 'Pause queue' }).click();
      await expect(migrations.queue.getByTestId('queue-paused')).toBeVisible();
      await expect(watcher.queue.getByTestId('queue-paused')).toBeVisible();
      await migrations.totals.getByRole('button', { name: 'Resume queue' }).click();
      await expect(migrations.queue.getByTestId('queue-paused')).toBeHidden();

      await page.evaluate(() => window.scrollTo(0, 0));
      await saveScreenshot(page, 'migrations');

      // Cancel all: the queue empties on both tabs, no file is lost or doubled.
      const open = (await api.query<Progress>('migrations.progress')).tasks.length;
      expect(open).toBeGreaterThan(0);
      await migrations.cancelAll();
      await expect(await shell.toast(/^Cancelled \d+ tasks?/)).toBeVisible();
      await expect(migrations.queue.getByTestId('empty-state')).toBeVisible();
      await expect(watcher.queue.getByTestId('empty-state')).toBeVisible();
      expect((await api.query<Progress>('migrations.progress')).tasks).toHaveLength(0);
      expect(await api.filesTotal()).toBe(filesBefore);
      await migrations.history.getByText('Cancelled', { exact: true }).click();
      await expect(migrations.history.locator('[data-testid="history-row"][data-status="cancelled"]').first()).toBeVisible();
    } finally {
      await other.close();
    }
  });
});

test('bad cap input is refused in the form, with the reason, and nothing is sent', async ({ page, api }) => {
  await withCleanQueue(api, async (caps) => {
    const migrations = new MigrationsPage(page);
    await migrations.goto();
    let sent = 0;
    page.on('request', (r) => {
      if (r.url().includes('migrations.setCaps')) sent++;
    });
    await migrations.fillCaps({ Overall: '0', 'Out per node': '65', 'In per node': '' });
    await migrations.saveCaps();
    await expect(migrations.capsForm.getByText('must be at least 1', { exact: true })).toBeVisible();
    await expect(migrations.capsForm.getByText('must be at most 64')).toBeVisible();
    await expect(migrations.capsForm.getByText('enter a number')).toBeVisible();
    await expect(migrations.capsInput('Overall')).toHaveAttribute('aria-invalid', 'true');

    await migrations.capsForm.getByRole('button', { name: 'Reset' }).click();
    await migrations.fillCaps({ 'Bandwidth per node': '0.5' }, 'KiB/s');
    await migrations.saveCaps();
    await expect(migrations.capsForm.getByText('must be at least 1.0 KiB/s')).toBeVisible();
    expect(sent).toBe(0);
    expect((await api.query<{ caps: Caps }>('migrations.caps')).caps).toEqual(caps);

    // Fixed, it goes through.
    await migrations.fillCaps({ 'Bandwidth per node': '2' }, 'MiB/s');
    await migrations.saveCaps();
    await expect(migrations.capsForm.getByText('must be at least 1.0 KiB/s')).toBeHidden();
    await expect.poll(async () => (await api.query<{ caps: Caps }>('migrations.caps')).caps.bandwidthBytesPerSec).toBe(2 * 1024 * 1024);
  });
});

test('the view reads at 390 px wide in dark mode while a plan runs', async ({ page, api }) => {
  await withCleanQueue(api, async () => {
    await api.stress({ node: 'zk1', files: 8, size_kb: 1024 });
    await api.mutation('migrations.setCaps', { bandwidthBytesPerSec: 128 * 1024 });
    const queued = await api.mutation<{ queued: number }>('migrations.enqueue', { strategy: 'count', priority: 3 });
    expect(queued.queued).toBeGreaterThan(0);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const migrations = new MigrationsPage(page);
    await migrations.goto();
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
    await expect(migrations.queue.locator('[data-status="running"]').first()).toBeVisible();
    // Nothing sticks out sideways: wide tables scroll inside their cards.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await saveScreenshot(page, 'migrations-narrow-dark');
  });
});

async function lifecycleOf(api: Api, node: string): Promise<LifecycleView | undefined> {
  return (await api.query<LifecycleView[]>('nodes.lifecycle')).find((n) => n.node === node);
}

test('scale up with a new storage node, decommission it behind a confirmation, cancel, reactivate; the capacity planner advises', async ({
  page,
  api,
  shell,
}) => {
  test.setTimeout(180_000);
  // Removed nodes stay registered: a fresh name per run keeps the test repeatable on one server.
  const node = `st${Math.floor(Math.random() * 900 + 100)}`;
  await withCleanQueue(api, async () => {
    // Enough files that a new, empty node is under its share (count strategy: share − threshold).
    await api.stress({ node: 'zk1', files: 40, size_kb: 64 });
    const filesBefore = await api.filesTotal();
    const migrations = new MigrationsPage(page);
    await migrations.goto();

    // The planner's advice, with its figures and reason, and its chart of usage samples.
    await expect(migrations.capacity.getByTestId('capacity-action')).toHaveAttribute('data-action', /^(scale_up|scale_down|no_action)$/);
    await expect(migrations.capacity.getByTestId('capacity-reason')).not.toBeEmpty();
    // A server minutes old has no hour of samples: no trend is claimed, whatever the chart shows.
    await expect(migrations.capacity.getByTestId('capacity-trend')).toContainText('not enough history');
    await migrations.capacity.getByRole('button', { name: 'Sample now' }).click();
    await expect(await shell.toast('Usage sampled')).toBeVisible();
    await expect(migrations.capacity.getByTestId('capacity-chart')).toBeVisible();
    await expect(migrations.capacity.getByTestId('capacity-history-row').first()).toBeVisible();
    // The recorded advice says the same: no row claims a trend ("stable") the planner has not fitted.
    await expect(migrations.capacity.getByTestId('capacity-history-row').first()).toContainText('used · not enough history');
    await expect(migrations.capacity.getByTestId('capacity-history')).not.toContainText('stable');

    // Scale up: a bad name is refused in the form, then the node joins, becomes active and takes files.
    await migrations.addStorageNode({ node: 'Bad Name' });
    await expect(migrations.addNodeForm.getByText(/node must be a short name/)).toBeVisible();
    await migrations.addStorageNode({ node, capacity: '2', unit: 'GiB', weight: '1' });
    await expect(await shell.toast(`Storage node ${node} added`)).toBeVisible();
    const row = migrations.storageNode(node);
    await expect(row).toHaveAttribute('data-lifecycle', 'active', { timeout: 30_000 });
    await expect(row.getByTestId('lifecycle-usage')).toContainText('of 2.0 GiB');
    await expect.poll(async () => (await lifecycleOf(api, node))?.files ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect(row.getByTestId('lifecycle-usage')).not.toContainText(/^0 files/);

    // Decommission, slowed by a tight bandwidth cap so its progress can be watched, then cancelled.
    await api.mutation('migrations.setCaps', { bandwidthBytesPerSec: 8 * 1024 });
    let dialog = await migrations.askLifecycle(node, 'decommission');
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('e2e: retire the disk');
    await dialog.getByRole('button', { name: `Decommission ${node}` }).click();
    await expect(await shell.toast(`Decommissioning ${node}`)).toBeVisible();
    await expect(row).toHaveAttribute('data-lifecycle', 'leaving');
    await expect(row.getByTestId('decommission-progress')).toBeVisible();
    await expect(row.getByTestId('decommission-figures')).toContainText('files left');
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, 'migrations-lifecycle');
    dialog = await migrations.askLifecycle(node, 'cancel');
    await dialog.getByRole('button', { name: 'Cancel decommission' }).click();
    await expect(await shell.toast(`Decommission of ${node} cancelled`)).toBeVisible();
    await expect(row).toHaveAttribute('data-lifecycle', 'active');

    // Without the cap the decommission runs to the end: the node is removed and holds nothing; no file is lost.
    await api.mutation('migrations.setCaps', { bandwidthBytesPerSec: null });
    dialog = await migrations.askLifecycle(node, 'decommission');
    await dialog.getByRole('button', { name: `Decommission ${node}` }).click();
    await expect(row).toHaveAttribute('data-lifecycle', 'removed', { timeout: 30_000 });
    expect((await lifecycleOf(api, node))?.files).toBe(0);
    expect(await api.filesTotal()).toBe(filesBefore);

    // Undo: reactivated, it joins and becomes active again.
    dialog = await migrations.askLifecycle(node, 'reactivate');
    await dialog.getByRole('button', { name: `Reactivate ${node}` }).click();
    await expect(await shell.toast(`${node} reactivated`)).toBeVisible();
    await expect(row).toHaveAttribute('data-lifecycle', 'active', { timeout: 30_000 });
  }).finally(async () => {
    // Leave the server with its three ensemble nodes only, as the other specs expect.
    await api.mutation('migrations.setCaps', { bandwidthBytesPerSec: null });
    const now = await lifecycleOf(api, node);
    if (now?.lifecycle === 'leaving') await api.mutation('nodes.cancelDecommission', { node });
    if (now && now.lifecycle !== 'removed') {
      await expect.poll(async () => (await lifecycleOf(api, node))?.lifecycle, { timeout: 30_000 }).toBe('active');
      await api.mutation('nodes.decommission', { node, reason: 'e2e cleanup' });
      await expect.poll(async () => (await lifecycleOf(api, node))?.lifecycle, { timeout: 30_000 }).toBe('removed');
    }
  });
});
