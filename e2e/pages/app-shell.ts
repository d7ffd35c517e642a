import type { Locator, Page } from '@playwright/test';

/** What every page has: navigation, the cluster chip and the lost-connection banner. */
export class AppShell {
  readonly banner: Locator;
  readonly quorumChip: Locator;

  constructor(readonly page: Page) {
    this.banner = page.getByTestId('connection-banner');
    this.quorumChip = page.getByTestId('header-quorum');
  }

  nav(name: 'Overview' | 'Workload' | 'Logs' | 'Files'): Locator {
    return this.page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name });
  }

  async toast(text: string | RegExp): Promise<Locator> {
    return this.page.locator('.mantine-Notification-root').filter({ hasText: text }).first();
  }
}
