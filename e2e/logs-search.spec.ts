import { expect, saveScreenshot, test } from './fixtures.ts';

const QUERY = 'LEADER ELECTION TOOK';

test('search the ZooKeeper logs: highlighted matches from the nodes, then one node only', async ({ page, logs, api }) => {
  // Setup: wait until the tailer has ingested an election line from zk2 (each node logs one when it joins).
  await expect
    .poll(async () => (await api.query<{ items: unknown[] }>('logs.search', { text: QUERY, sources: ['zk2'], limit: 1 })).items.length, {
      timeout: 30_000,
    })
    .toBeGreaterThan(0);

  await logs.gotoServerLogs();
  await logs.searchLogs(QUERY);
  await expect(logs.logLines.first()).toBeVisible();
  await expect(logs.logLines.first().getByTestId('log-message').locator('mark').first()).toBeVisible();
  await expect(logs.logLines.first().getByTestId('log-message')).toContainText(/LEADER ELECTION TOOK/i);
  const sources = new Set(await logs.logLines.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-source'))));
  for (const s of sources) expect(s).toMatch(/^zk\d$/);
  // Newest first.
  const ids = await logs.logLines.evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  await saveScreenshot(page, 'logs-search');

  await logs.onlySources('zk2');
  await expect(logs.logLines.first()).toHaveAttribute('data-source', 'zk2');
  for (const s of await logs.logLines.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-source')))) expect(s).toBe('zk2');
  await expect(logs.logLines.first().locator('mark').first()).toBeVisible();
  await saveScreenshot(page, 'logs-search-zk2');

  await logs.searchLogs('no such words in any log line');
  await expect(page.getByText('No log lines match this search.')).toBeVisible();
});
