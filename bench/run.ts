/**
 * `npm run bench`: runs every benchmark in this folder in turn and prints its figures with units.
 * Benchmarks measure; they never assert (tests do that).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file}`);
  // One process per benchmark, so one's heap does not weigh on the next one's memory figures.
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${here}${file}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
