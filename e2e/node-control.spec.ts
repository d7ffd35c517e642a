import { expect, saveScreenshot, test } from './fixtures.ts';

let stopped: string | null = null;

test.afterEach(async ({ api }) => {
  // Leave the shared ensemble whole for the next spec, even after a failure.
  if (stopped) {
    const node = stopped;
    stopped = null;
    const { nodes } = await api.overview();
    if (!nodes.find((n) => n.node === node)?.up) await api.mutation('nodes.start', { node }).catch(() => undefined);
    await expect.poll(async () => (await api.overview()).cluster.upCount, { timeout: 45_000 }).toBe(3);
  }
});

test('stop a follower from its card, see it and its store go down, start it again', async ({ page, overview, logs, api, shell }) => {
  test.setTimeout(120_000);
  const { cluster, nodes } = await api.overview();
  expect(cluster.upCount).toBe(3);
  const follower = nodes.find((n) => n.up && n.mode === 'follower')!.node;

  await overview.goto();
  await expect(overview.upBadge(follower)).toHaveText('up');
  await expect(overview.storeBadge(follower)).toHaveAttribute('data-status', 'OK');

  // Cancel first: nothing happens.
  let dialog = await overview.openAction(follower, 'Stop');
  await expect(dialog.getByTestId('node-action-impact')).toHaveText(`stopping ${follower} leaves 2 of 3: quorum kept`);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect((await api.overview()).nodes.find((n) => n.node === follower)?.up).toBe(true);

  dialog = await overview.openAction(follower, 'Stop');
  await expect(dialog.getByTestId('node-action-impact')).toContainText('quorum kept');
  await expect(dialog.getByTestId('node-action-impact')).toHaveAttribute('data-keeps-quorum', 'true');
  await saveScreenshot(page, 'node-control-confirm');
  stopped = follower;
  await overview.confirmAction(dialog, follower, 'Stop');
  await expect(await shell.toast(`${follower} stopped`)).toBeVisible();

  await expect(overview.upBadge(follower)).toHaveText('down');
  await expect(overview.storeBadge(follower)).toHaveAttribute('data-status', 'OFFLINE', { timeout: 20_000 });
  await expect(overview.storeBadge(follower)).toHaveText('store OFFLINE');
  await expect(overview.summary.getByTestId('cluster-quorum')).toContainText('2/3 up');

  // The remaining two would lose quorum if one more went: the dialog says so, in red.
  const other = nodes.find((n) => n.node !== follower)!.node;
  const danger = await overview.openAction(other, 'Stop');
  await expect(danger.getByTestId('node-action-impact')).toHaveText(`stopping ${other} now loses quorum: writes will stop`);
  await expect(danger.getByTestId('node-action-impact')).toHaveAttribute('data-keeps-quorum', 'false');
  await saveScreenshot(page, 'node-control-danger');
  await danger.getByRole('button', { name: 'Cancel' }).click();
  await expect(danger).toBeHidden();
  await saveScreenshot(page, 'node-control-stopped');

  dialog = await overview.openAction(follower, 'Start');
  await expect(dialog.getByTestId('node-action-impact')).toContainText(`starting ${follower} brings 3 of 3 back`);
  await overview.confirmAction(dialog, follower, 'Start');
  await expect(await shell.toast(`${follower} started`)).toBeVisible();
  await expect(overview.upBadge(follower)).toHaveText('up', { timeout: 45_000 });
  await expect(overview.storeBadge(follower)).toHaveAttribute('data-status', 'OK', { timeout: 30_000 });
  stopped = null;

  // The audit log has the stop, with who did it and the impact.
  await logs.goto();
  await page.getByRole('combobox', { name: 'Action' }).click();
  await page.getByRole('option', { name: 'node_stop', exact: true }).click();
  await expect(logs.rows.first()).toHaveAttribute('data-action', 'node_stop');
  await expect(logs.rows.first()).toContainText(follower);
});
