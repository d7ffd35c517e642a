import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { expect, saveScreenshot, test } from './fixtures.ts';
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
  });
}

/** The PID of the ZooKeeper JVM that this spec's server started for `node` (its log dir is under our data dir). */
function jvmPid(dataDir: string, node: string): number {
  const marker = `-Dzookeeper.log.dir=${path.join(dataDir, 'logs', node)}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no ZooKeeper JVM for ${node} under ${dataDir}`);
}

function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

test('the server stops mid-session and comes back: the banner shows, then clears, and live data flows again without a reload', async ({
  page,
}) => {
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

    // A failure drill first: the leader's JVM dies; the page shows it go down and another node take over.
    const oldLeader = (await (await page.request.get(`${server.url}/api/overview`)).json()).cluster.leader as string;
    process.kill(jvmPid(dataDir, oldLeader), 'SIGKILL');
    await expect(overview.card(oldLeader).getByTestId('node-up')).toHaveText('down');
    await expect(overview.events.locator('[data-kind="node_down"]').filter({ hasText: `${oldLeader} stopped answering` })).toBeVisible();
    await expect(overview.events.locator('[data-kind="leader_changed"], [data-kind="quorum_restored"]').first()).toBeVisible({
      timeout: 30_000,
    });
    await expect(page.getByTestId('node-role').filter({ hasText: /^leader$/ })).toHaveCount(1);
    await expect(overview.role(oldLeader)).toBeHidden();
    await saveScreenshot(page, 'overview-leader-lost');

    await stopServer(server.proc);
    await expect(shell.banner).toBeVisible();
    await expect(shell.banner).toContainText('Connection to the server lost — retrying…');
    await expect(shell.quorumChip).toContainText('last known');
    // The last data stays on screen while it is away.
    await expect(overview.cards).toHaveCount(3);
    await saveScreenshot(page, 'overview-disconnected');

    server = await startServer(ports, dataDir);
    await expect(shell.banner).toBeHidden({ timeout: 30_000 });
    await expect(shell.quorumChip).toContainText(/quorum ok · .*leader zk\d/);

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
