import { expect, type Locator, type Page } from '@playwright/test';

export class OverviewPage {
  readonly cards: Locator;
  readonly summary: Locator;
  readonly events: Locator;

  constructor(readonly page: Page) {
    this.cards = page.locator('[data-testid^="node-card-"]');
    this.summary = page.getByTestId('cluster-summary');
    this.events = page.getByRole('region', { name: 'Cluster events' });
  }

  async goto(base = ''): Promise<void> {
    await this.page.goto(`${base}/ui/`);
    await expect(this.page.getByRole('heading', { name: 'Overview', level: 2 })).toBeVisible();
  }

  card(node: string): Locator {
    return this.page.getByTestId(`node-card-${node}`);
  }

  role(node: string): Locator {
    return this.card(node).getByTestId('node-role');
  }

  drainedBadge(node: string): Locator {
    return this.card(node).getByTestId('drained-badge');
  }

  drainReason(node: string): Locator {
    return this.card(node).getByTestId('drain-reason');
  }

  async drain(node: string, reason: string): Promise<void> {
    await this.card(node)
      .getByRole('button', { name: `Drain ${node}` })
      .click();
    const dialog = this.page.getByRole('dialog', { name: `Drain ${node}?` });
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByRole('button', { name: 'Drain', exact: true }).click();
    await expect(dialog).toBeHidden();
  }

  async undrain(node: string): Promise<void> {
    await this.card(node)
      .getByRole('button', { name: `Undrain ${node}` })
      .click();
    const dialog = this.page.getByRole('dialog', { name: `Undrain ${node}?` });
    await dialog.getByRole('button', { name: 'Undrain', exact: true }).click();
    await expect(dialog).toBeHidden();
  }

  storeBadge(node: string): Locator {
    return this.card(node).getByTestId('store-status');
  }

  upBadge(node: string): Locator {
    return this.card(node).getByTestId('node-up');
  }

  controls(node: string): Locator {
    return this.card(node).getByRole('group', { name: `Control ${node}` });
  }

  /** Opens the confirmation of Stop / Start / Restart on a node's card; returns the dialog. */
  async openAction(node: string, action: 'Stop' | 'Start' | 'Restart'): Promise<Locator> {
    await this.controls(node).getByRole('button', { name: action, exact: true }).click();
    const dialog = this.page.getByRole('dialog', { name: `${action} ${node}?` });
    await expect(dialog).toBeVisible();
    return dialog;
  }

  async confirmAction(dialog: Locator, node: string, action: 'Stop' | 'Start' | 'Restart' | 'Kill'): Promise<void> {
    await dialog.getByRole('button', { name: `${action} ${node}`, exact: true }).click();
    await expect(dialog).toBeHidden({ timeout: 45_000 });
  }
}
