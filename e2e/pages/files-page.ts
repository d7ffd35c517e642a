import { expect, type Locator, type Page } from '@playwright/test';

export class FilesPage {
  readonly rows: Locator;
  readonly count: Locator;

  constructor(readonly page: Page) {
    this.rows = page.getByTestId('file-row');
    this.count = page.getByTestId('files-count');
  }

  async goto(node?: string): Promise<void> {
    await this.page.goto(`/ui/files${node ? `?node=${node}` : ''}`);
    await expect(this.page.getByRole('heading', { name: 'Files', level: 2 })).toBeVisible();
  }
}
