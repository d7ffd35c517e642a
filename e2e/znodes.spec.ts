import { expect, saveScreenshot, test } from './fixtures.ts';

test.afterEach(async ({ api }) => {
  await api.mutation('znodes.remove', { path: '/e2e-app', recursive: true, confirm: true }).catch(() => undefined);
});

test('the znode explorer: browse the tree, read JSON, edit at the version read (a change meanwhile is shown, not overwritten), add and delete', async ({
  page,
  api,
}) => {
  await api.mutation('znodes.create', { path: '/e2e-app', data: { text: '' } });
  await api.mutation('znodes.create', { path: '/e2e-app/config', data: { text: '{"replicas":3}' } });

  await page.goto('/ui/znodes');
  await expect(page.getByTestId('znode-/zkha')).toBeVisible();
  await page.getByRole('button', { name: 'Expand /e2e-app' }).click();
  await page.getByTestId('znode-/e2e-app/config').click();
  await expect(page).toHaveURL(/path=%2Fe2e-app%2Fconfig/);
  const panel = page.getByTestId('znode-panel');
  await expect(panel.getByRole('heading', { name: '/e2e-app/config' })).toBeVisible();
  await expect(panel.getByTestId('znode-data')).toHaveText('{"replicas":3}');
  await panel.locator('label', { hasText: /^JSON$/ }).click();
  await expect(panel.getByTestId('znode-data')).toContainText('"replicas": 3');
  await expect(panel.getByTestId('znode-stat')).toContainText('dataLength');
  await expect(page.getByTestId('four-letter-output')).toContainText('Mode:');
  await saveScreenshot(page, 'znodes-json');

  // Edit; meanwhile someone else writes: the console shows it, and Save is refused (nothing overwritten).
  await panel.getByRole('button', { name: 'Edit', exact: true }).click();
  await panel.getByLabel('Data').fill('{"replicas":5}');
  await api.mutation('znodes.set', { path: '/e2e-app/config', data: { text: '{"replicas":4}' }, version: 0 });
  await expect(panel.getByText('Changed since you opened it: now version 1')).toBeVisible({ timeout: 10_000 });
  await panel.getByRole('button', { name: 'Save at version 0' }).click();
  await expect(page.getByText('/e2e-app/config not saved')).toBeVisible();
  expect((await api.query<{ data: { text: string } }>('znodes.get', { path: '/e2e-app/config' })).data.text).toBe('{"replicas":4}');

  // A child, then the subtree deleted after the count.
  await page.getByTestId('znode-/e2e-app').click();
  await panel.getByLabel('Child name').fill('added');
  await panel.getByRole('button', { name: 'Create' }).click();
  await expect(panel.getByRole('heading', { name: '/e2e-app/added' })).toBeVisible();
  await page.getByTestId('znode-/e2e-app').click();
  await panel.getByRole('button', { name: /Delete with its subtree/ }).click();
  await expect(panel.getByText('3 znodes will go.')).toBeVisible();
  await panel.getByRole('button', { name: 'Delete 3' }).click();
  await expect(page.getByTestId('znode-/e2e-app')).toBeHidden();
});

test('the tree follows watches on its open levels, and finds paths by prefix and by glob', async ({ page, api }) => {
  await api.mutation('znodes.create', { path: '/e2e-app', data: { text: '' } });
  await api.mutation('znodes.create', { path: '/e2e-app/one', data: { text: '' } });
  await page.goto('/ui/znodes?path=/zookeeper');
  await page.getByRole('button', { name: 'Expand /e2e-app' }).click();
  await expect(page.getByTestId('znode-/e2e-app/one')).toBeVisible();
  // Another client adds a child to the open level, and one at the top: both appear without a reload, long
  // before the listings' 60 s re-read.
  await api.mutation('znodes.create', { path: '/e2e-app/two', data: { text: '' } });
  await api.mutation('znodes.create', { path: '/e2e-app-sibling', data: { text: '' } });
  await expect(page.getByTestId('znode-/e2e-app/two')).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId('znode-/e2e-app-sibling')).toBeVisible({ timeout: 10_000 });
  await api.mutation('znodes.remove', { path: '/e2e-app-sibling' });
  await expect(page.getByTestId('znode-/e2e-app-sibling')).toBeHidden({ timeout: 10_000 });

  const find = page.getByLabel('Find znodes by prefix or glob');
  await find.fill('/e2e-app/t');
  const results = page.getByTestId('znode-find-results');
  await expect(results).toContainText('1 prefix match');
  await find.fill('/e2e-app/*');
  await expect(results).toContainText('2 glob matches');
  await saveScreenshot(page, 'znodes-find');
  await results.getByText('/e2e-app/two').click();
  await expect(page.getByTestId('znode-panel').getByRole('heading', { name: '/e2e-app/two' })).toBeVisible();
  await find.fill('');
  await expect(page.getByTestId('znode-tree')).toBeVisible();

  // A TTL child: ZooKeeper will delete it after an hour without children or changes.
  const panel = page.getByTestId('znode-panel');
  await panel.getByLabel('Child name').fill('short-lived');
  await panel.getByLabel('TTL in seconds').fill('3600');
  await panel.getByRole('button', { name: 'Create' }).click();
  await expect(panel.getByRole('heading', { name: '/e2e-app/two/short-lived' })).toBeVisible();
  const audit = await api.query<{ items: { action: string; details: { ttlMs?: number } }[] }>('logs.operations', {
    action: 'znode_create',
    limit: 1,
  });
  expect(audit.items[0]?.details.ttlMs).toBe(3_600_000);

  // Its ACL, edited in ZooKeeper's notation: a bad entry is refused with the reason, a good one saved.
  await panel.getByRole('button', { name: 'Edit ACL' }).click();
  await panel.getByLabel('ACL entries').fill('world:anyone:rwx');
  await panel.getByRole('button', { name: 'Save ACL at aversion 0' }).click();
  await expect(page.getByText('/e2e-app/two/short-lived: ACL not saved')).toBeVisible();
  await panel.getByLabel('ACL entries').fill('world:anyone:cdrwa\nip:127.0.0.1:r');
  await panel.getByRole('button', { name: 'Save ACL at aversion 0' }).click();
  await expect(panel.getByTestId('znode-acl')).toHaveText(['world:anyone:cdrwa', 'ip:127.0.0.1:r']);
  await saveScreenshot(page, 'znodes-acl');
});
