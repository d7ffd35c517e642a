#!/usr/bin/env node
// `zkha-agent`: the storage agent (src/main.ts, whose header lists the flags), run in this process so signals
// reach the agent itself. Its bundle (dist/main.mjs, made by `npm run build`, as in the image) when there is one,
// else the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/main.mjs', import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
