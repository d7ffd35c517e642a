import { expect, type Locator, type Page } from '@playwright/test';

/** The ensemble view: load per server, membership with add/remove, rolling restart, scaling. */
export class EnsemblePage {
  readonly load: Locator;
  readonly loadRows: Locator;
  readonly formula: Locator;
  readonly charts: Locator;
  readonly membership: Locator;
  readonly memberRows: Locator;
  readonly restart: Locator;
  readonly planSteps: Locator;
  readonly scaling: Locator;
  readonly policyForm: Locator;

  constructor(readonly page: Page) {
    this.load = page.getByTestId('load-card');
    this.loadRows = this.load.getByTestId('load-row');
    this.formula = page.getByTestId('load-formula');
    this.charts = page.getByTestId('load-charts');
    this.membership = page.getByTestId('membership-card');
    this.memberRows = this.membership.getByTestId('member-row');
    this.restart = page.getByTestId('restart-card');
    this.planSteps = this.restart.getByTestId('restart-plan-step');
    this.scaling = page.getByTestId('scaling-card');
    this.policyForm = page.getByRole('form', { name: 'Scaling policy' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/ui/ensemble');
    await expect(this.page.getByRole('heading', { name: 'Ensemble', level: 2 })).toBeVisible();
    // The membership has answered once its table shows, the load once its rows do.
    await expect(this.memberRows.first()).toBeVisible();
    await expect(this.loadRows.first()).toBeVisible();
  }

  loadRow(node: string): Locator {
    return this.load.locator(`[data-testid="load-row"][data-node="${node}"]`);
  }

  member(node: string): Locator {
    return this.membership.locator(`[data-testid="member-row"][data-node="${node}"]`);
  }

  fact(name: 'voters' | 'observers' | 'leader' | 'quorum' | 'version'): Locator {
    return this.membership.getByTestId(`membership-${name}`);
  }

  /** Opens the add dialog for a role; returns it once the guards' verdict shows. */
  async openAdd(role: 'participant' | 'observer'): Promise<Locator> {
    await this.membership.getByRole('button', { name: role === 'observer' ? 'Add observer' : 'Add participant' }).click();
    const dialog = this.page.getByRole('dialog', { name: role === 'observer' ? 'Add an observer?' : 'Add a participant?' });
    await expect(dialog.getByTestId('quorum-change')).toBeVisible();
    return dialog;
  }

  async openRemove(node: string): Promise<Locator> {
    await this.member(node)
      .getByRole('button', { name: `Remove ${node}` })
      .click();
    const dialog = this.page.getByRole('dialog', { name: `Remove ${node}?` });
    await expect(dialog.getByTestId('quorum-change')).toBeVisible();
    return dialog;
  }

  /** One quorum figure of an open dialog: [before, after]. */
  async quorumFigure(dialog: Locator, figure: 'voters' | 'observers' | 'quorum' | 'tolerates'): Promise<[string, string]> {
    const row = dialog.getByTestId(`quorum-${figure}`);
    return [await row.getByTestId('before').innerText(), await row.getByTestId('after').innerText()];
  }

  /** The confirm button of a change dialog ("Add zk4 as observer", "Remove zk4"). */
  confirmButton(dialog: Locator): Locator {
    return dialog.getByRole('button', { name: /^(Add|Remove) / });
  }

  /** Server names in the dry run's order. */
  async planOrder(): Promise<{ node: string; mode: string }[]> {
    await expect(this.planSteps.first()).toBeVisible();
    return this.planSteps.evaluateAll((rows) =>
      rows.map((r) => ({ node: r.getAttribute('data-node') ?? '', mode: r.getAttribute('data-mode') ?? '' })),
    );
  }
}
