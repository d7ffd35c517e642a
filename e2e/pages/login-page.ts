import { expect, type Locator, type Page } from '@playwright/test';

/** The console's login page, shown whenever the server wants a token and the browser has no session. */
export class LoginPage {
  readonly form: Locator;
  readonly name: Locator;
  readonly token: Locator;
  readonly submit: Locator;
  readonly error: Locator;
  readonly message: Locator;

  constructor(readonly page: Page) {
    this.form = page.getByRole('form', { name: 'Log in' });
    this.name = this.form.getByLabel('Name');
    this.token = this.form.getByLabel('Token');
    this.submit = this.form.getByRole('button', { name: 'Log in' });
    this.error = page.getByTestId('login-error');
    this.message = page.getByTestId('login-message');
  }

  async expectShown(): Promise<void> {
    await expect(this.page.getByRole('heading', { name: 'zkha console' })).toBeVisible();
    await expect(this.form).toBeVisible();
  }

  async login(token: string, name?: string): Promise<void> {
    if (name !== undefined) await this.name.fill(name);
    await this.token.fill(token);
    await this.submit.click();
  }
}
