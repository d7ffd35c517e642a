import { expect, type Locator, type Page } from '@playwright/test';

export type CapsLabel = 'Overall' | 'Out per node' | 'In per node' | 'Bandwidth per node';

/** The migrations view: dry run, queue, caps. */
export class MigrationsPage {
  readonly plan: Locator;
  readonly queue: Locator;
  readonly totals: Locator;
  readonly tasks: Locator;
  readonly waitReasons: Locator;
  readonly capsForm: Locator;
  readonly enqueueForm: Locator;
  readonly history: Locator;
  readonly lifecycle: Locator;
  readonly addNodeForm: Locator;
  readonly capacity: Locator;

  constructor(readonly page: Page) {
    this.plan = page.getByTestId('plan-card');
    this.queue = page.getByTestId('queue-card');
    this.totals = page.getByTestId('queue-totals');
    this.tasks = this.queue.getByTestId('queue-task');
    this.waitReasons = page.getByTestId('wait-reasons');
    this.capsForm = page.getByRole('form', { name: 'Migration caps' });
    this.enqueueForm = page.getByRole('form', { name: 'Queue this plan' });
    this.history = page.getByTestId('history-card');
    this.lifecycle = page.getByTestId('lifecycle-panel');
    this.addNodeForm = page.getByRole('form', { name: 'Add a storage node' });
    this.capacity = page.getByTestId('capacity-card');
  }

  async goto(): Promise<void> {
    await this.page.goto('/ui/migrations');
    await expect(this.page.getByRole('heading', { name: 'Migrations', level: 2 })).toBeVisible();
    // The progress stream has answered once the totals show, the dry run once its move count does.
    await expect(this.totals).toBeVisible();
    await expect(this.plan.getByTestId('plan-move-count')).toBeVisible();
  }

  async chooseStrategy(label: 'Count' | 'Bytes' | 'Utilization' | 'Weighted'): Promise<void> {
    await this.plan.getByRole('radiogroup', { name: 'Balancing strategy' }).getByText(label, { exact: true }).click();
  }

  planNode(node: string): Locator {
    return this.plan.getByTestId(`plan-node-${node}`);
  }

  get queueButton(): Locator {
    return this.enqueueForm.getByRole('button', { name: /^Queue \d+ moves?/ });
  }

  async fillCaps(values: Partial<Record<CapsLabel, string>>, unit?: 'KiB/s' | 'MiB/s'): Promise<void> {
    for (const [label, value] of Object.entries(values)) await this.capsInput(label as CapsLabel).fill(value);
    if (unit) await this.capsForm.getByRole('combobox', { name: 'Bandwidth unit' }).selectOption(unit);
  }

  /** The three concurrency caps sit in a "Max concurrent migrations" group; the bandwidth stands alone. */
  capsInput(label: CapsLabel): Locator {
    const scope = label === 'Bandwidth per node' ? this.capsForm : this.capsForm.getByRole('group', { name: 'Max concurrent migrations' });
    return scope.getByRole('textbox', { name: label });
  }

  async saveCaps(): Promise<void> {
    await this.capsForm.getByRole('button', { name: 'Save caps' }).click();
  }

  task(id: number): Locator {
    return this.queue.locator(`[data-testid="queue-task"][data-task-id="${id}"]`);
  }

  /** A task in `status`: the last one listed is the last to start, so it stays pending longest. */
  async taskId(status: 'pending' | 'running' | 'paused', which: 'first' | 'last' = 'first'): Promise<number> {
    const rows = this.queue.locator(`[data-testid="queue-task"][data-status="${status}"]`);
    const row = which === 'first' ? rows.first() : rows.last();
    await expect(row).toBeVisible();
    return Number(await row.getAttribute('data-task-id'));
  }

  /** The whole-queue bar's percentage of bytes copied. */
  async totalsPercent(): Promise<number> {
    return Number(await this.totals.getByRole('progressbar').getAttribute('aria-valuenow'));
  }

  async cancelAll(): Promise<void> {
    await this.totals.getByRole('button', { name: 'Cancel all' }).click();
    await this.page
      .getByRole('dialog', { name: 'Cancel every open migration?' })
      .getByRole('button', { name: /^Cancel \d+ tasks?$/ })
      .click();
  }

  storageNode(node: string): Locator {
    return this.lifecycle.locator(`[data-testid="lifecycle-node"][data-node="${node}"]`);
  }

  async addStorageNode(opts: { node: string; capacity?: string; unit?: 'MiB' | 'GiB' | 'TiB'; weight?: string }): Promise<void> {
    await this.addNodeForm.getByRole('textbox', { name: 'Name' }).fill(opts.node);
    if (opts.capacity !== undefined) await this.addNodeForm.getByRole('textbox', { name: 'Capacity' }).fill(opts.capacity);
    if (opts.unit) await this.addNodeForm.getByRole('combobox', { name: 'Capacity unit' }).selectOption(opts.unit);
    if (opts.weight !== undefined) await this.addNodeForm.getByRole('textbox', { name: 'Weight' }).fill(opts.weight);
    await this.addNodeForm.getByRole('button', { name: 'Add node' }).click();
  }

  /** Clicks a lifecycle button on a node's row and returns the confirmation dialog it opens. */
  async askLifecycle(node: string, action: 'decommission' | 'cancel' | 'reactivate'): Promise<Locator> {
    const name = { decommission: `Decommission ${node}`, cancel: `Cancel the decommission of ${node}`, reactivate: `Reactivate ${node}` }[
      action
    ];
    await this.storageNode(node).getByRole('button', { name }).click();
    const title = {
      decommission: `Decommission ${node}?`,
      cancel: `Cancel the decommission of ${node}?`,
      reactivate: `Reactivate ${node}?`,
    }[action];
    const dialog = this.page.getByRole('dialog', { name: title });
    await expect(dialog).toBeVisible();
    return dialog;
  }
}
