import { expect, type Locator, type Page } from '@playwright/test';

export class LogsPage {
  readonly rows: Locator;
  readonly liveTail: Locator;

  constructor(readonly page: Page) {
    this.rows = page.getByTestId('operation-row');
    this.liveTail = page.getByRole('switch', { name: 'Live tail' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/ui/logs');
    await expect(this.page.getByRole('heading', { name: 'Logs', level: 2 })).toBeVisible();
  }

  async startLiveTail(): Promise<void> {
    await this.liveTail.check();
    await expect(this.page.getByText('new operations appear at the top')).toBeVisible();
  }

  row(id: number): Locator {
    return this.page.locator(`[data-testid="operation-row"][data-id="${id}"]`);
  }

  async expand(id: number): Promise<Locator> {
    await this.row(id).getByRole('button', { name: `Show details of operation ${id}` }).click();
    return this.page.locator(`#op-${id}-details`);
  }
}
