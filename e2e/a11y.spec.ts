/**
 * Accessibility: axe-core (the engine behind Lighthouse's and Deque's checks) on every console page, WCAG 2.1
 * A and AA rules. No serious or critical violation may remain; minor and moderate ones are printed.
 */
import AxeBuilder from '@axe-core/playwright';

import { expect, test } from './fixtures.ts';

const PAGES = [
  { path: '/ui/', name: 'Overview' },
  { path: '/ui/workload', name: 'Workload' },
  { path: '/ui/logs', name: 'Logs' },
  { path: '/ui/files', name: 'Files' },
  { path: '/ui/migrations', name: 'Migrations' },
  { path: '/ui/ensemble', name: 'Ensemble' },
  { path: '/ui/znodes', name: 'Znodes' },
  { path: '/ui/no-such-page', name: 'Not found' },
];

for (const { path, name } of PAGES) {
  test(`${name} page: no serious or critical accessibility violation`, async ({ page }) => {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 2 }).first()).toBeVisible();
    // Let the first queries land, so the page is checked as it is used, not as a skeleton (live subscriptions
    // keep connections open, so the network never goes idle).
    await page.waitForTimeout(1500);
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const lines = result.violations.map(
      (v) =>
        `${v.impact ?? 'unknown'} ${v.id}: ${v.help} (${v.nodes.length}×: ${v.nodes
          .slice(0, 3)
          .map((n) => `${n.target.join(' ')} [${n.any[0]?.message ?? ''}]`)
          .join(', ')})`,
    );
    console.log(
      `axe ${name}: ${result.passes.length} rules pass, ${result.violations.length} violated${lines.length ? `\n  ${lines.join('\n  ')}` : ''}`,
    );
    expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  });
}
