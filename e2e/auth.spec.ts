import { spawn, type ChildProcess } from 'node:child_process';

import { expect, saveScreenshot, test } from './fixtures.ts';
import { LoginPage } from './pages/login-page.ts';
import { LogsPage } from './pages/logs-page.ts';
import { OverviewPage } from './pages/overview-page.ts';
import { freeServerPorts, portsEnv } from './support/ports.ts';

const OPERATOR = 'e2e-operator-secret-0123456789';
const VIEWER = 'e2e-viewer-secret-0123456789';

/** A server of this spec's own with tokens configured (the shared webServer stays open to loopback). */
function startServer(): Promise<{ proc: ChildProcess; url: string }> {
  return freeServerPorts().then(
    (ports) =>
      new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', 'e2e/server.ts'], {
          env: { ...process.env, ...portsEnv(ports), ZKHA_E2E_API_TOKENS: `ops:operator:${OPERATOR},grafana:viewer:${VIEWER}` },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
        proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
        proc.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          const m = /ZKHA_E2E_READY (\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve({ proc, url: m[1]! });
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`server exited with ${code}:\n${output}`));
        });
      }),
  );
}

function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

let server: { proc: ChildProcess; url: string } | null = null;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  server = await startServer();
});

test.afterAll(async () => {
  if (server) await stopServer(server.proc);
});

test('login page, a wrong token, login, who I am, a change by the session, logout', async ({ page }) => {
  const url = server!.url;
  const login = new LoginPage(page);
  const overview = new OverviewPage(page);
  // The server's CSP forbids inline scripts: the console must run without tripping it anywhere on the way.
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });

  await page.goto(`${url}/ui/`);
  await login.expectShown();
  await saveScreenshot(page, 'login');

  await login.login('not-the-token');
  await expect(login.error).toContainText('wrong token');
  await expect(login.form).toBeVisible();

  await login.token.fill('');
  await login.login(OPERATOR, 'ops');
  await expect(page.getByRole('heading', { name: 'Overview', level: 2 })).toBeVisible();
  await expect(page.getByTestId('identity')).toHaveText('ops · operator');
  await expect(page.getByTestId('read-only-badge')).toBeHidden();
  // Live data flows over the cookie: the cards and the header's quorum chip come from queries and SSE.
  await expect(overview.cards).toHaveCount(3);
  await expect(page.getByTestId('header-quorum')).toContainText('quorum ok');

  // A change from the console carries the session's CSRF token, and the log names the session.
  await overview.drain('zk3', 'auth e2e');
  await expect(overview.drainedBadge('zk3')).toBeVisible();
  await overview.undrain('zk3');
  await expect(overview.drainedBadge('zk3')).toBeHidden();
  const logs = new LogsPage(page);
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Logs' }).click();
  await expect(logs.rows.filter({ hasText: 'auth e2e' }).first().getByTestId('operation-actor')).toHaveText('by session:ops');

  // The cookie is not readable by scripts.
  expect(await page.evaluate(() => document.cookie)).not.toContain('zkha_session');
  const cookie = (await page.context().cookies(url)).find((c) => c.name === 'zkha_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

  expect(violations).toEqual([]);

  await page.getByRole('button', { name: 'Log out' }).click();
  await login.expectShown();
  await expect(login.message).toHaveText('You logged out.');
  await page.reload();
  await login.expectShown();
});

test('a viewer sees the console with a read-only badge, and a change is refused', async ({ page }) => {
  const url = server!.url;
  const login = new LoginPage(page);
  await page.goto(`${url}/ui/`);
  await login.login(VIEWER);
  await expect(page.getByTestId('identity')).toHaveText('grafana · viewer');
  await expect(page.getByTestId('read-only-badge')).toBeVisible();
  await saveScreenshot(page, 'overview-viewer');

  const overview = new OverviewPage(page);
  await overview.card('zk2').getByRole('button', { name: 'Drain zk2' }).click();
  const dialog = page.getByRole('dialog', { name: 'Drain zk2?' });
  await dialog.getByRole('button', { name: 'Drain', exact: true }).click();
  await expect(page.locator('.mantine-Notification-root').filter({ hasText: 'has the viewer role' }).first()).toBeVisible();
  await expect(overview.drainedBadge('zk2')).toBeHidden();
});
