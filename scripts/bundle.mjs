/**
 * Builds a process entry (the server, start-ha, the storage agent) into one ESM file under the package's dist/:
 *
 *   node ../../scripts/bundle.mjs src/main.ts [src/start-ha.ts ...]     (run in the package's folder)
 *
 * Why: `npm start` and the image run these bundles with plain node instead of the TypeScript sources under tsx.
 * tsx compiles every module at start-up and keeps the compiled text and its source maps in memory; the bundle
 * starts faster and takes ~60 MB less resident memory in the server and ~30 MB less in each agent (bench/
 * server-rss.bench.ts). Tests and development keep running the sources.
 *
 * - The workspace's own packages (@zkha/*, TypeScript) are bundled; everything from node_modules stays an import,
 *   resolved at run time from the repository's node_modules (native better-sqlite3, pino's transports...).
 * - `import.meta.url` keeps meaning the source file's URL, so paths computed from it (the database migrations, the
 *   console's dist/, package.json) stay right wherever the bundle lies.
 * - `ZKHA_BUNDLED` is defined as true: code that starts another entry (the supervisor its agents, start-ha its
 *   servers) starts that entry's bundle, never a source under tsx, and never a stale bundle from a source run.
 * - Split into chunks, so that a dynamic import (the Docker driver) loads its dependencies only when it runs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import * as esbuild from 'esbuild';

const entries = process.argv.slice(2);
if (entries.length === 0) {
  console.error('usage: node scripts/bundle.mjs <entry.ts>... (from the package folder; writes dist/<entry>.mjs)');
  process.exit(2);
}

const started = Date.now();
const result = await esbuild.build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked', // read only under `node --enable-source-maps`
  define: { ZKHA_BUNDLED: 'true' },
  metafile: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'zkha-entries',
      setup(build) {
        // Bare imports other than the workspace's own stay imports.
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@zkha/') || args.path.startsWith('node:') ? undefined : { path: args.path, external: true },
        );
        build.onLoad({ filter: /\.ts$/ }, async (args) => ({
          contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
          loader: 'ts',
        }));
      },
    },
  ],
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
const kb = outputs.reduce((sum, [, o]) => sum + o.bytes, 0) / 1024;
console.log(
  `bundled ${entries.join(', ')} → ${path.relative(process.cwd(), 'dist')}/ (${outputs.length} files, ${kb.toFixed(0)} KiB) in ${Date.now() - started} ms`,
);
