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

  /** The row of one file, by its name. */
  row(name: string): Locator {
    return this.rows.filter({ hasText: name });
  }

  /** The Move dialog of one file. */
  moveDialog(name: string): Locator {
    return this.page.getByRole('dialog', { name: `Move ${name}` });
  }

  /** Opens a file's Move dialog, picks the target and confirms; the dialog stays open on a refusal. */
  async move(name: string, target: string): Promise<Locator> {
    await this.row(name)
      .getByRole('button', { name: `Move ${name}` })
      .click();
    const dialog = this.moveDialog(name);
    await expect(dialog).toBeVisible();
    await dialog.getByTestId('file-move-target').click();
    await this.page.getByRole('option', { name: target, exact: true }).click();
    await expect(dialog.getByTestId('file-move-target')).toHaveValue(target);
    await dialog.getByTestId('file-move-confirm').click();
    return dialog;
  }
}
