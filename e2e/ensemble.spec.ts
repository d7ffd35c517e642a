import type { RouterOutputs } from '@zkha/sdk';

import type { Api } from './support/api.ts';
import { expect, saveScreenshot, test } from './fixtures.ts';
import { EnsemblePage } from './pages/ensemble-page.ts';

type Membership = RouterOutputs['ensemble']['membership'];
type Policy = RouterOutputs['ensemble']['policy'];

const membershipOf = (api: Api) => api.query<Membership>('ensemble.membership');

/** Back to the three voters the other specs expect, whatever a failed test left (an extra server, say). */
async function restoreMembership(api: Api): Promise<void> {
  const m = await membershipOf(api);
  for (const node of [...m.observers, ...m.voters].filter((n) => !['zk1', 'zk2', 'zk3'].includes(n))) {
    await api.mutation('ensemble.removeServer', { node, confirm: true }).catch(() => undefined);
  }
}

test('three voters, one leader, a load score per server with its formula, and live charts', async ({ page, api }) => {
  const ensemble = new EnsemblePage(page);
  const m = await membershipOf(api);
  expect(m.voters).toEqual(['zk1', 'zk2', 'zk3']);
  await ensemble.goto();

  await expect(ensemble.memberRows).toHaveCount(3);
  for (const node of m.voters) await expect(ensemble.member(node).getByTestId('member-role')).toHaveText('voter');
  await expect(ensemble.fact('voters')).toContainText('3');
  await expect(ensemble.fact('observers')).toHaveText('0');
  await expect(ensemble.fact('leader')).toHaveText(m.leader!);
  await expect(ensemble.member(m.leader!).getByTestId('member-mode')).toHaveText('leader');
  await expect(ensemble.membership.getByTestId('member-mode').filter({ hasText: /^follower$/ })).toHaveCount(2);
  await expect(ensemble.fact('quorum')).toHaveText('2 of 3, tolerates 1');
  await expect(ensemble.fact('version')).toHaveText(m.version);
  await expect(ensemble.membership.getByTestId('membership-divergent')).toBeHidden();

  // Every server has a score from 0 to 100 (the first probes come within a second or two).
  await expect(ensemble.loadRows).toHaveCount(3);
  for (const node of ['zk1', 'zk2', 'zk3']) {
    await expect(ensemble.loadRow(node).getByTestId('load-score')).toHaveText(/^\d{1,3}\.\d$/);
    const score = Number(await ensemble.loadRow(node).getByTestId('load-score').innerText());
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(100);
  }
  // The formula and weights are the server's own.
  const load = await api.query<{ config: { formula: string; components: { key: string; weight: number }[] } }>('ensemble.load');
  await expect(ensemble.formula.getByTestId('load-formula-text')).toHaveText(load.config.formula);
  await expect(ensemble.formula.getByTestId('load-weight')).toHaveCount(load.config.components.length);

  // The memory of each JVM is measured on the embedded default, so the chart has a current value per server.
  await expect(page.getByTestId('chart-memory-now')).toHaveText(/^Now: zk1 \d.* · zk2 \d.* · zk3 \d/);
  await expect(page.getByTestId('chart-memory').locator('svg .recharts-line').first()).toBeVisible();
  await expect(page.getByTestId('chart-score').locator('svg .recharts-line')).toHaveCount(3);

  // A row opens on the figures that do not enter the score.
  await ensemble.loadRow('zk1').getByRole('button', { name: 'Show the figures of zk1' }).click();
  await expect(page.locator('#load-details-zk1')).toContainText('Open file descriptors');
  await saveScreenshot(page, 'ensemble');
});

test('the dry-run rolling restart restarts nothing and lists the leader last', async ({ page, api }) => {
  const ensemble = new EnsemblePage(page);
  const { leader } = await membershipOf(api);
  await ensemble.goto();
  const order = await ensemble.planOrder();
  expect(order).toHaveLength(3);
  expect(order.at(-1)).toEqual({ node: leader, mode: 'leader' });
  expect(order.slice(0, 2).map((s) => s.mode)).toEqual(['follower', 'follower']);
  await expect(ensemble.planSteps.last()).toContainText('leader last');
  await expect(ensemble.restart.getByRole('button', { name: 'Restart for real…' })).toBeEnabled();
  // Nothing ran.
  expect(await api.query('ensemble.rollingRestartStatus')).toBeNull();
  await expect(ensemble.restart.getByTestId('restart-job')).toBeHidden();

  // The real run asks first; cancelling leaves everything as it was.
  await ensemble.restart.getByRole('button', { name: 'Restart for real…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Restart every server, one at a time?' });
  await expect(dialog).toContainText(`${order.map((s) => s.node).join(' → ')}`);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect(await api.query('ensemble.rollingRestartStatus')).toBeNull();
});

test('the guards: a participant needs a yes for 4 voters, removing a voter of 3 is refused in red', async ({ page, api }) => {
  const ensemble = new EnsemblePage(page);
  await ensemble.goto();

  const add = await ensemble.openAdd('participant');
  expect(await ensemble.quorumFigure(add, 'voters')).toEqual(['3', '4']);
  expect(await ensemble.quorumFigure(add, 'quorum')).toEqual(['2', '3']);
  expect(await ensemble.quorumFigure(add, 'tolerates')).toEqual(['1', '1']);
  await expect(add.getByTestId('change-warnings')).toContainText('Even number of voters: confirm');
  const confirm = ensemble.confirmButton(add);
  await expect(confirm).toHaveText('Add zk4 as participant');
  await expect(confirm).toBeDisabled();
  await add.getByRole('checkbox', { name: 'Yes, leave 4 voters (an even number)' }).check();
  await expect(confirm).toBeEnabled();
  await saveScreenshot(page, 'ensemble-add-participant');
  await add.getByRole('button', { name: 'Cancel' }).click();
  await expect(add).toBeHidden();

  const { leader, voters } = await membershipOf(api);
  const follower = voters.find((v) => v !== leader)!;
  const remove = await ensemble.openRemove(follower);
  expect(await ensemble.quorumFigure(remove, 'voters')).toEqual(['3', '2']);
  await expect(remove.getByTestId('change-refusal')).toContainText('fewer than 3');
  await expect(ensemble.confirmButton(remove)).toBeDisabled();
  await saveScreenshot(page, 'ensemble-remove-refused');
  // Escape closes it: the dialog is usable from the keyboard.
  await page.keyboard.press('Escape');
  await expect(remove).toBeHidden();
  expect((await membershipOf(api)).voters).toEqual(['zk1', 'zk2', 'zk3']);
});

test('add an observer, see it join in a second tab, then remove it', async ({ page, api, browser, baseURL, shell }) => {
  // Two tabs, a JVM started and stopped: minutes on a loaded two-core machine.
  test.setTimeout(300_000);
  const other = await browser.newContext({ baseURL });
  try {
    const watcher = new EnsemblePage(await other.newPage());
    await watcher.goto();
    await expect(watcher.memberRows).toHaveCount(3);

    const ensemble = new EnsemblePage(page);
    await ensemble.goto();
    const add = await ensemble.openAdd('observer');
    expect(await ensemble.quorumFigure(add, 'voters')).toEqual(['3', '3']);
    expect(await ensemble.quorumFigure(add, 'observers')).toEqual(['0', '1']);
    expect(await ensemble.quorumFigure(add, 'quorum')).toEqual(['2', '2']);
    await expect(add.getByTestId('change-refusal')).toBeHidden();
    const confirm = ensemble.confirmButton(add);
    const label = await confirm.innerText();
    const node = /^Add (\S+) as observer$/.exec(label)?.[1];
    expect(node).toBeTruthy();
    await confirm.click();
    // In flight: the dialog stays, its buttons are disabled, then it closes on success.
    await expect(add.getByRole('button', { name: 'Cancel' })).toBeDisabled();
    // The toast comes with the answer and closes after 5 s: look for it first, the dialog closes with it.
    await expect(await shell.toast(`${node} added as an observer`)).toBeVisible({ timeout: 90_000 });
    await expect(add).toBeHidden();

    await expect(ensemble.member(node!).getByTestId('member-role')).toHaveText('observer');
    await expect(ensemble.fact('observers')).toContainText(`1 (${node})`);
    // The other tab hears it through ensemble.onMembership, without a reload.
    await expect(watcher.member(node!).getByTestId('member-role')).toHaveText('observer', { timeout: 20_000 });
    await expect(watcher.member(node!).getByTestId('member-mode')).toHaveText('observer', { timeout: 20_000 });
    // Its load appears once the probes include it.
    await expect(ensemble.loadRow(node!)).toBeVisible({ timeout: 20_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await saveScreenshot(page, 'ensemble-observer-added');

    const remove = await ensemble.openRemove(node!);
    expect(await ensemble.quorumFigure(remove, 'observers')).toEqual(['1', '0']);
    expect(await ensemble.quorumFigure(remove, 'voters')).toEqual(['3', '3']);
    await ensemble.confirmButton(remove).click();
    await expect(await shell.toast(`${node} removed`)).toBeVisible({ timeout: 90_000 });
    await expect(remove).toBeHidden();
    await expect(ensemble.member(node!)).toBeHidden();
    await expect(watcher.member(node!)).toBeHidden({ timeout: 20_000 });
    await expect(ensemble.memberRows).toHaveCount(3);
    const after = await membershipOf(api);
    expect(after.voters).toEqual(['zk1', 'zk2', 'zk3']);
    expect(after.observers).toEqual([]);
  } finally {
    await other.close();
    await restoreMembership(api);
  }
});

test('the scaling policy form refuses what the server would, saves the rest; the recommendation shows its figures', async ({
  page,
  api,
  shell,
}) => {
  const original = await api.query<Policy>('ensemble.policy');
  try {
    const ensemble = new EnsemblePage(page);
    await ensemble.goto();
    await expect(ensemble.scaling.getByTestId('recommendation-reason')).not.toBeEmpty();
    await expect(ensemble.scaling.getByTestId('recommendation-auto')).toHaveText('automatic mode off');
    await expect(ensemble.policyForm.getByRole('switch', { name: 'Automatic mode' })).not.toBeChecked();

    const form = ensemble.policyForm;
    await form.getByRole('textbox', { name: 'Scale down below' }).fill('90');
    await form.getByRole('textbox', { name: 'Min voters' }).fill('2');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await expect(form.getByText('must be below the scale-up threshold')).toBeVisible();
    await expect(form.getByText('must be at least 3')).toBeVisible();
    expect((await api.query<Policy>('ensemble.policy')).downThreshold).toBe(original.downThreshold);

    await form.getByRole('textbox', { name: 'Scale down below' }).fill('15');
    await form.getByRole('textbox', { name: 'Min voters' }).fill('3');
    await form.getByRole('textbox', { name: 'For (minutes)' }).fill('5');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await expect(await shell.toast('Scaling policy saved')).toBeVisible();
    await expect(form.getByText('must be below the scale-up threshold')).toBeHidden();
    const saved = await api.query<Policy>('ensemble.policy');
    expect(saved).toMatchObject({ downThreshold: 15, forMinutes: 5, minVoters: 3, auto: false });
    // The recommendation is re-read with the new window.
    await expect(ensemble.scaling.getByTestId('recommendation-figures')).toContainText('5 min');
  } finally {
    await api.mutation('ensemble.setPolicy', original);
  }
});

test('a real rolling restart, after a confirmation: each step live, the leader last, the ensemble whole again', async ({
  page,
  api,
  shell,
}) => {
  test.setTimeout(240_000);
  const ensemble = new EnsemblePage(page);
  const { leader } = await membershipOf(api);
  await ensemble.goto();
  const order = await ensemble.planOrder();
  expect(order.at(-1)?.node).toBe(leader);
  try {
    // Everything the page shows of the job, recorded as it renders: on a fast machine the whole restart takes
    // ~10 s, faster than a test can look at each step, so the steps' history is checked afterwards.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { restartSeen: string[] }).restartSeen = seen;
      const record = () => {
        const job = document.querySelector('[data-testid="restart-job"]');
        if (!job) return;
        const steps = Array.from(job.querySelectorAll('[data-testid="restart-step"]')).map(
          (e) => `${e.getAttribute('data-node')}=${e.getAttribute('data-phase')}`,
        );
        const run = Array.from(document.querySelectorAll('[data-testid="restart-card"] button')).find(
          (b) => b.textContent === 'Restart for real…',
        );
        const state = `${job.getAttribute('data-status')} ${steps.join(' ')} run=${run?.hasAttribute('disabled') ? 'disabled' : 'enabled'}`;
        if (seen.at(-1) !== state) seen.push(state);
      };
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-phase', 'data-status', 'disabled'],
      });
    });
    await ensemble.restart.getByRole('button', { name: 'Restart for real…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restart every server, one at a time?' });
    await dialog.getByRole('button', { name: 'Restart 3 servers' }).click();
    await expect(await shell.toast('Rolling restart started')).toBeVisible();
    const job = ensemble.restart.getByTestId('restart-job');
    await expect(job).toBeVisible();
    await expect(job).toHaveAttribute('data-status', 'succeeded', { timeout: 180_000 });
    const seen = await page.evaluate(() => (window as unknown as { restartSeen: string[] }).restartSeen);
    // It was shown running, with steps between pending and done (restarting, or syncing back), in order, and
    // no second run was offered meanwhile.
    expect(seen.some((s) => s.startsWith('running '))).toBe(true);
    expect(seen.filter((s) => s.startsWith('running ')).every((s) => s.endsWith('run=disabled'))).toBe(true);
    expect(seen.some((s) => /=(restarting|syncing)\b/.test(s))).toBe(true);
    const firstBusy = (node: string) => seen.findIndex((s) => new RegExp(`${node}=(restarting|syncing|done)`).test(s));
    expect(firstBusy(order[0]!.node)).toBeLessThanOrEqual(firstBusy(order[2]!.node));
    const steps = job.getByTestId('restart-step');
    await expect(steps).toHaveCount(3);
    expect(await steps.evaluateAll((els) => els.map((e) => [e.getAttribute('data-node'), e.getAttribute('data-phase')]))).toEqual(
      order.map((s) => [s.node, 'done']),
    );
    await expect(job).toContainText('3 of 3 restarted');
    const status = await api.query<{ status: string; steps: { node: string }[] }>('ensemble.rollingRestartStatus');
    expect(status.status).toBe('succeeded');
    expect(status.steps.at(-1)?.node).toBe(leader);
    await saveScreenshot(page, 'ensemble-rolling-restart-done');
  } finally {
    // Leave the ensemble and every store whole for the next spec.
    await expect.poll(async () => (await api.overview()).cluster.upCount, { timeout: 60_000 }).toBe(3);
    await expect
      .poll(async () => (await api.query<{ status: string }[]>('nodes.stores')).every((s) => s.status === 'OK'), { timeout: 60_000 })
      .toBe(true);
  }
});

test('the view reads at 390 px wide and in dark mode', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  const ensemble = new EnsemblePage(page);
  await ensemble.goto();
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await expect(ensemble.loadRow('zk1').getByTestId('load-score')).toHaveText(/^\d/);
  await expect(ensemble.planSteps.first()).toBeVisible();
  await expect(page.getByTestId('chart-score').locator('svg .recharts-line').first()).toBeVisible();
  // Nothing sticks out sideways: wide tables scroll inside their cards.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await saveScreenshot(page, 'ensemble-narrow-dark');
  await page.setViewportSize({ width: 1360, height: 900 });
  await saveScreenshot(page, 'ensemble-dark');
});
