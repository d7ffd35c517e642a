import { expect, type Locator, type Page } from '@playwright/test';

export class WorkloadPage {
  readonly form: Locator;
  readonly filesInput: Locator;
  readonly sizeInput: Locator;
  readonly triggerScheduler: Locator;
  readonly submit: Locator;
  readonly runOnce: Locator;
  readonly runResult: Locator;
  readonly runMode: Locator;
  readonly diagnostics: Locator;
  readonly explain: Locator;
  readonly charts: Locator;
  readonly progress: Locator;
  readonly tasks: Locator;
  readonly generator: Locator;
  readonly generatorForm: Locator;

  constructor(readonly page: Page) {
    this.form = page.getByRole('form', { name: 'Create files on a node' });
    this.filesInput = this.form.getByLabel('Number of files');
    this.sizeInput = this.form.getByLabel('Size (KiB)');
    this.triggerScheduler = this.form.getByLabel('Run the scheduler right after');
    this.submit = this.form.getByRole('button', { name: 'Create files' });
    this.runOnce = page.getByRole('button', { name: 'Run scheduler once' });
    this.runResult = page.getByTestId('run-result');
    this.runMode = page.getByTestId('run-mode');
    this.diagnostics = page.getByTestId('scheduler-diagnostics');
    this.explain = this.diagnostics.getByTestId('diag-explain');
    this.charts = page.getByTestId('live-charts');
    this.progress = page.getByTestId('workload-progress');
    this.tasks = page.getByTestId('tasks-table');
    this.generator = page.getByRole('region', { name: 'Demo workload generator' });
    this.generatorForm = this.generator.getByRole('form', { name: 'Workload generator settings' });
  }

  async goto(): Promise<void> {
    await this.page.goto('/ui/workload');
    await expect(this.page.getByRole('heading', { name: 'Workload', level: 2 })).toBeVisible();
    // The plan stream has answered once the diagnostics show a message.
    await expect(this.diagnostics.getByTestId('diag-message')).toBeVisible();
  }

  async chooseNode(node: string): Promise<void> {
    await this.form.getByRole('combobox', { name: 'Target node' }).click();
    await this.page.getByRole('option', { name: node, exact: true }).click();
  }

  async fillStress(opts: { node?: string; files: string; sizeKb?: string; trigger?: boolean }): Promise<void> {
    if (opts.node) await this.chooseNode(opts.node);
    await this.filesInput.fill(opts.files);
    if (opts.sizeKb !== undefined) await this.sizeInput.fill(opts.sizeKb);
    if (opts.trigger !== undefined) await this.triggerScheduler.setChecked(opts.trigger);
  }

  /** A node's row in the diagnostics' explain table (data-role: source/target/neither, data-code: its reason). */
  explainRow(node: string): Locator {
    return this.explain.getByTestId(`explain-row-${node}`);
  }

  /** Every row of the explain table. */
  get explainRows(): Locator {
    return this.explain.locator('[data-testid^="explain-row-"]');
  }

  /** The node's file count as the diagnostics show it. */
  count(node: string): Locator {
    return this.explainRow(node).getByTestId('count');
  }

  generatorStat(name: 'ticks' | 'files' | 'bytes' | 'sessions' | 'status'): Locator {
    return this.generator.getByTestId(`generator-${name}`);
  }

  async configureGenerator(
    values: Partial<Record<'Interval (s)' | 'Max files' | 'Min size (KiB)' | 'Max size (KiB)' | 'Extra clients', string>>,
  ): Promise<void> {
    for (const [label, value] of Object.entries(values)) await this.generatorForm.getByLabel(label).fill(value);
    await this.generatorForm.getByRole('button', { name: 'Save generator settings' }).click();
  }
}
