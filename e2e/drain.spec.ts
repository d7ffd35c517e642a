import { expect, saveScreenshot, test } from './fixtures.ts';

// "Run scheduler once" moving one file at a time is the seed's one_per_tick demo; whole_plan (the default)
// queues the whole plan instead, which the migrations spec covers.
test.beforeEach(async ({ api }) => {
  await api.mutation('scheduler.setConfig', { mode: 'one_per_tick' });
});

test.afterEach(async ({ api }) => {
  await api.undrain('zk3'); // leave the shared server as the next spec expects it, even after a failure
  await api.mutation('scheduler.setConfig', { mode: 'whole_plan' });
});

test('a drained node shows its reason and is never chosen as the scheduler’s target', async ({ page, overview, workload, api }) => {
  // An imbalance for the scheduler to act on.
  await api.stress({ node: 'zk1', files: 12, size_kb: 4 });

  await overview.goto();
  await overview.drain('zk3', 'disk swap (e2e)');
  await expect(overview.drainedBadge('zk3')).toBeVisible();
  await expect(overview.drainReason('zk3')).toContainText('disk swap (e2e)');
  await expect(overview.drainedBadge('zk1')).toBeHidden();

  await workload.goto();
  await expect(workload.diagnostics.getByTestId('diag-drained')).toHaveText('zk3');
  await expect(workload.explainRow('zk3')).toContainText('drained: disk swap (e2e)');
  // The explain says why zk3 takes nothing: drained (a source while it still holds files, else neither).
  await expect(workload.explainRow('zk3')).toHaveAttribute('data-code', 'drained');
  await expect(workload.explainRow('zk3')).not.toHaveAttribute('data-role', 'target');

  for (let round = 1; round <= 3; round++) {
    const zk3Before = (await api.diagnostics()).counts.zk3 ?? 0;
    const response = page.waitForResponse((r) => r.url().includes('/trpc/scheduler.run'));
    await workload.runOnce.click();
    const body = (await (await response).json()) as
      | [{ result: { data: { executed: boolean; before: { targetNode: string } } } }]
      | { result: { data: { executed: boolean; before: { targetNode: string } } } };
    const result = Array.isArray(body) ? body[0].result.data : body.result.data;
    expect(result.before.targetNode).not.toBe('zk3');
    await expect(workload.runOnce).toBeEnabled();
    await expect(workload.runResult.getByTestId('run-move')).toHaveText(new RegExp(`→ ${result.before.targetNode}$`));
    await expect(workload.runResult.getByTestId('run-move')).not.toContainText('→ zk3');

    // The diagnostics say the same in words, and the API agrees.
    await expect(workload.diagnostics.getByTestId('diag-route')).not.toContainText('→ zk3');
    await expect(workload.explainRow('zk3')).not.toHaveAttribute('data-role', 'target');
    const plan = await api.diagnostics();
    expect(plan.drainedNodes).toEqual(['zk3']);
    expect(plan.targetNode).not.toBe('zk3');
    expect(plan.counts.zk3 ?? 0).toBeLessThanOrEqual(zk3Before);
  }
  await saveScreenshot(page, 'workload-drained');

  await overview.goto();
  await overview.undrain('zk3');
  await expect(overview.drainedBadge('zk3')).toBeHidden();
  await expect(overview.drainReason('zk3')).toBeHidden();
  expect((await api.diagnostics()).drainedNodes).toEqual([]);
});
