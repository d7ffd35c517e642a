/**
 * The bundles `npm start`, `npm run start:ha` and the image run (scripts/bundle.mjs): where they are, and one way to
 * build them (the server's and the agent's, which the server starts) for the tests and benchmarks that run them.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SERVER_BUNDLE = fileURLToPath(new URL('../dist/main.mjs', import.meta.url));
export const START_HA_BUNDLE = fileURLToPath(new URL('../dist/start-ha.mjs', import.meta.url));

/** Builds both bundles from the current sources (never cached by turbo: a bundle holds other packages' sources). */
export function buildBundles(): void {
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  execFileSync('npm', ['run', 'build', '-w', '@zkha/agent', '-w', '@zkha/server'], { cwd: root, stdio: 'ignore' });
}
