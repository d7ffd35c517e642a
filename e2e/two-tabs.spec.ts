import { expect, test } from './fixtures.ts';
import { OverviewPage } from './pages/overview-page.ts';

test.afterEach(async ({ api }) => {
  await api.undrain('zk2');
});

// Two browser contexts: each tab holds its own event streams, as two operators' browsers would.
test('a drain in one tab shows live in the other, without reload', async ({ browser, baseURL }) => {
  const contextA = await browser.newContext({ baseURL });
  const contextB = await browser.newContext({ baseURL });
  try {
    const a = new OverviewPage(await contextA.newPage());
    const b = new OverviewPage(await contextB.newPage());
    await a.goto();
    await b.goto();
    await expect(b.card('zk2')).toBeVisible();
    await expect(b.drainedBadge('zk2')).toBeHidden();
    let reloaded = false;
    b.page.on('framenavigated', (f) => {
      if (f === b.page.mainFrame()) reloaded = true;
    });

    await a.drain('zk2', 'two-tab check');
    await expect(b.drainedBadge('zk2')).toBeVisible();
    await expect(b.drainReason('zk2')).toContainText('two-tab check');

    // And back the other way.
    await b.undrain('zk2');
    await expect(a.drainedBadge('zk2')).toBeHidden();
    expect(reloaded).toBe(false);
  } finally {
    await contextA.close();
    await contextB.close();
  }
});
