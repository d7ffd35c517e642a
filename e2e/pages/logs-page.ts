import { expect, type Locator, type Page } from '@playwright/test';

export class LogsPage {
  readonly rows: Locator;
  readonly liveTail: Locator;
  readonly logLines: Locator;
  readonly searchForm: Locator;

  constructor(readonly page: Page) {
    this.rows = page.getByTestId('operation-row');
    this.liveTail = page.getByRole('switch', { name: 'Live tail' });
    this.logLines = page.getByTestId('log-line');
    this.searchForm = page.getByRole('form', { name: 'Search the logs' });
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
    await this.row(id)
      .getByRole('button', { name: `Show details of operation ${id}` })
      .click();
    return this.page.locator(`#op-${id}-details`);
  }

  async gotoServerLogs(): Promise<void> {
    await this.goto();
    await this.page.getByRole('tab', { name: 'Server & ZooKeeper logs' }).click();
    await expect(this.page).toHaveURL(/tab=server/);
    await expect(this.searchForm).toBeVisible();
  }

  async searchLogs(text: string): Promise<void> {
    await this.searchForm.getByRole('searchbox', { name: 'Query' }).fill(text);
  }

  async onlySources(...sources: string[]): Promise<void> {
    const box = this.searchForm.getByRole('combobox', { name: 'Sources' });
    for (const source of sources) {
      await box.click();
      await this.page.getByRole('option', { name: source, exact: true }).click();
    }
    await box.press('Escape');
  }
}
