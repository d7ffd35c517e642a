import { expect, test } from './fixtures.ts';

test('bad input in the stress form shows a clear error and sends nothing', async ({ page, workload, api }) => {
  const before = await api.filesTotal();
  const stressCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('workload.stress')) stressCalls.push(r.url());
  });

  await workload.goto();
  await workload.fillStress({ node: 'zk1', files: '0' });
  await workload.submit.click();
  await expect(workload.form.getByText('Number of files: must be at least 1')).toBeVisible();
  await expect(workload.filesInput).toHaveAttribute('aria-invalid', 'true');

  await workload.fillStress({ files: '1000000' });
  await workload.submit.click();
  await expect(workload.form.getByText('Number of files: must be at most 2000')).toBeVisible();

  await workload.fillStress({ files: '12', sizeKb: '0' });
  await workload.submit.click();
  await expect(workload.form.getByText('Size: must be at least 1 KiB')).toBeVisible();

  expect(stressCalls).toEqual([]);
  expect(await api.filesTotal()).toBe(before);
});

test('an unknown node through the API gets a 404 with a message, and nothing is created', async ({ request, api }) => {
  const before = await api.filesTotal();
  const tasksBefore = (await api.overview()).totals;

  const res = await request.post('/api/demo/stress', { data: { node: 'zk9', files: 3, size_kb: 4 } });
  expect(res.status()).toBe(404);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('NODE_NOT_FOUND');
  expect(body.error.message).toMatch(/unknown node "zk9"/);

  // Without a file count the body is refused first, as bad input.
  const bare = await request.post('/api/demo/stress', { data: { node: 'zk9' } });
  expect(bare.status()).toBe(400);

  expect(await api.filesTotal()).toBe(before);
  expect((await api.overview()).totals).toEqual(tasksBefore);
});

test('a failing mutation shows the API’s message in a toast and re-enables its button', async ({ page, workload }) => {
  await workload.goto();
  // The server's answer when the ensemble has no quorum, as the batch link receives it.
  await page.route('**/trpc/scheduler.run**', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify([
        {
          error: {
            message: 'no quorum: 1 of 3 servers serving',
            code: -32603,
            data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, appCode: 'NO_QUORUM' },
          },
        },
      ]),
    }),
  );
  await workload.runOnce.click();
  const toast = page.locator('.mantine-Notification-root').filter({ hasText: 'Could not run the scheduler' });
  await expect(toast).toContainText('no quorum: 1 of 3 servers serving');
  await expect(workload.runOnce).toBeEnabled();
  // An answer from the server, even an error, is not a lost connection.
  await expect(page.getByTestId('connection-banner')).toBeHidden();
});
