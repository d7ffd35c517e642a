/**
 * Makes `dist/` an installable package: its own package.json (entry points to the built files, and only the
 * public packages the SDK needs at run time and for its types) and the README. `npm pack dist` packs it.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) =>
  JSON.parse(readFileSync(p, 'utf8')) as { version: string; description?: string; dependencies: Record<string, string> };
const sdk = read(path.join(SDK, 'package.json'));
const api = read(path.join(SDK, '../api/package.json'));
const root = JSON.parse(readFileSync(path.join(SDK, '../../package.json'), 'utf8')) as { engines: Record<string, string> };

const manifest = {
  name: '@zkha/sdk',
  version: sdk.version,
  description: 'The typed client of a zkha server (tRPC), for Node and browsers',
  type: 'module',
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './client': { types: './client.d.ts', default: './client.js' },
  },
  types: './index.d.ts',
  engines: root.engines,
  sideEffects: false,
  dependencies: {
    '@trpc/client': sdk.dependencies['@trpc/client'],
    // @trpc/client's peer, and the declarations' router types come from it.
    '@trpc/server': api.dependencies['@trpc/server'],
    eventsource: sdk.dependencies.eventsource,
    zod: api.dependencies.zod,
  },
};
writeFileSync(path.join(SDK, 'dist/package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(path.join(SDK, 'README.md'), path.join(SDK, 'dist/README.md'));
console.log(`dist/package.json: ${manifest.name}@${manifest.version}`);
