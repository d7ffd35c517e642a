/**
 * Vitest global setup: builds the bundles `npm start` runs (the server's and the agent's, scripts/bundle.mjs) once
 * before any test file, so the tests that start them (npm-start, start-ha) run what a person runs, never a stale
 * copy, and no two test files write dist/ at the same time.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function buildBundles(): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  execFileSync('npm', ['run', 'build', '-w', '@zkha/agent', '-w', '@zkha/server'], { cwd: root, stdio: 'ignore' });
}
