import { expect, saveScreenshot, test } from './fixtures.ts';

test('overview shows the three nodes, exactly one leader, and the cluster summary', async ({ page, overview, api, shell }) => {
  await overview.goto();

  await expect(overview.cards).toHaveCount(3);
  for (const node of ['zk1', 'zk2', 'zk3']) {
    await expect(overview.card(node).getByTestId('node-up')).toHaveText('up');
  }
  // Every node reports a role; exactly one of them leads.
  await expect(page.getByTestId('node-role')).toHaveCount(3);
  await expect(page.getByTestId('node-role').filter({ hasText: /^leader$/ })).toHaveCount(1);
  await expect(page.getByTestId('node-role').filter({ hasText: /^follower$/ })).toHaveCount(2);

  const { cluster } = await api.overview();
  expect(cluster.quorum).toBe(true);
  await expect(overview.role(cluster.leader!)).toHaveText('leader');
  await expect(overview.summary.getByTestId('cluster-leader')).toHaveText(cluster.leader!);
  await expect(overview.summary.getByTestId('cluster-quorum')).toContainText('healthy');
  await expect(overview.summary.getByTestId('cluster-delta')).toContainText('/');
  await expect(shell.quorumChip).toContainText(`leader ${cluster.leader}`);
  await expect(shell.banner).toBeHidden();

  await saveScreenshot(page, 'overview');
});

test('a node card links to the files of that node, paged, with each file’s history', async ({ page, overview, files, api }) => {
  await api.stress({ node: 'zk2', files: 30, size_kb: 1 });
  const onZk2 = await api.filesTotal('zk2');

  await overview.goto();
  await overview.card('zk2').getByRole('link', { name: 'Files on zk2 →' }).click();
  await expect(page).toHaveURL(/\/ui\/files\?node=zk2$/);
  await expect(files.count).toHaveText(`${onZk2} files on zk2`);
  await expect(files.rows.first()).toBeVisible();
  // Only zk2's files are listed.
  for (const node of await files.rows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node')))) expect(node).toBe('zk2');

  // 25 a page: the last page holds the rest.
  const pages = Math.ceil(onZk2 / 25);
  await expect(files.rows).toHaveCount(25);
  await page.getByRole('button', { name: String(pages), exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`page=${pages}`));
  await expect(files.rows).toHaveCount(onZk2 - (pages - 1) * 25);

  const first = files.rows.first();
  const name = (await first.getByRole('cell').nth(1).textContent())!.trim();
  await first.getByRole('button', { name: `Show history of ${name}` }).click();
  await expect(page.getByTestId('file-history').first()).toContainText(/stress|auto_migrate/);

  await page.getByTestId('files-node-filter').getByText('All nodes').click();
  await expect(page).toHaveURL(/\/ui\/files$/);
  await expect(files.count).toHaveText(new RegExp(`^${await api.filesTotal()} files$`));
  await saveScreenshot(page, 'files');
});

test('keyboard and narrow window: the drain dialog opens and cancels from the keyboard, navigation folds into a menu', async ({
  page,
  overview,
  shell,
  api,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await overview.goto();
  await expect(overview.cards).toHaveCount(3);

  const drain = overview.card('zk1').getByRole('button', { name: 'Drain zk1' });
  await drain.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Drain zk1?' });
  await expect(dialog.getByLabel('Reason')).toBeFocused();
  await page.keyboard.type('typed, then cancelled');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect((await api.overview()).nodes.find((n) => n.node === 'zk1')?.drained).toBe(false);

  await saveScreenshot(page, 'overview-narrow');
  await expect(shell.nav('Workload')).not.toBeInViewport();
  await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await shell.nav('Workload').click();
  await expect(page.getByRole('heading', { name: 'Workload', level: 2 })).toBeVisible();
  await expect(page.getByTestId('diag-message')).toBeVisible();
  await saveScreenshot(page, 'workload-narrow');
});
