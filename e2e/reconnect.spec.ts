import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { expect, test } from './fixtures.ts';
import { AppShell } from './pages/app-shell.ts';
import { OverviewPage } from './pages/overview-page.ts';
import { freeServerPorts, portsEnv, type ServerPorts } from './support/ports.ts';

/** A server of this spec's own (not the shared webServer), so stopping it disturbs no other test. */
function startServer(ports: ServerPorts, dataDir: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'e2e/server.ts'], {
    env: { ...process.env, ...portsEnv(ports), ZKHA_E2E_DATA_DIR: dataDir, AUTO_SCHEDULER_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
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
  });
}

function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

test('the server stops mid-session and comes back: the banner shows, then clears, and live data flows again without a reload', async ({ page }) => {
  test.setTimeout(120_000);
  const ports = await freeServerPorts();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'zkha-e2e-restart-'));
  let server = await startServer(ports, dataDir);
  try {
    const overview = new OverviewPage(page);
    const shell = new AppShell(page);
    await overview.goto(server.url);
    await expect(overview.cards).toHaveCount(3);
    await expect(shell.banner).toBeHidden();
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    await stopServer(server.proc);
    await expect(shell.banner).toBeVisible();
    await expect(shell.banner).toContainText('Connection to the server lost — retrying…');
    // The last data stays on screen while it is away.
    await expect(overview.cards).toHaveCount(3);

    server = await startServer(ports, dataDir);
    await expect(shell.banner).toBeHidden({ timeout: 30_000 });

    // Live again: a drain made through the restarted server's API reaches the open page.
    const res = await page.request.post(`${server.url}/api/nodes/zk1/drain`, { data: { reason: 'after restart' } });
    expect(res.ok()).toBe(true);
    await expect(overview.drainReason('zk1')).toContainText('after restart');
    expect(navigations).toBe(0);
  } finally {
    await stopServer(server.proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
