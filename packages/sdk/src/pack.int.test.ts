/**
 * The SDK as someone outside this repository gets it: built (`npm run build:package`), packed (`npm pack`),
 * installed from the tarball into an empty folder with TypeScript, then a small script is type-checked
 * strictly (the SDK's declarations included: skipLibCheck off) and run against a live server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootTestServer, type TestServer } from '@zkha/server/testing';

const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(SDK, '../..');
const rootPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'zkha-sdk-pack-'));
  t = await bootTestServer();
}, 180_000);
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Asynchronous: the server under test runs in this process and must keep answering meanwhile.
const run = async (cmd: string, args: string[], cwd: string) =>
  (await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;

const SCRIPT = `import { createZkhaClient, isZkhaClientError, ZSchedulerRunInputSchema, type RouterOutputs } from '@zkha/sdk';

const zkha = createZkhaClient({ url: process.argv[2]! });
const nodes: RouterOutputs['nodes']['list'] = await zkha.nodes.list.query();
// @ts-expect-error fileCount is a number: the declarations are real types, not any
const wrong: string = nodes[0]!.fileCount;
let refused = '';
try {
  // @ts-expect-error limit is a number
  await zkha.files.list.query({ limit: 'ten' });
} catch (err) {
  if (isZkhaClientError(err)) refused = err.data?.code ?? '';
}
const created = await zkha.znodes.create.mutate({ path: '/sdk-pack', data: { text: 'hello' } });
console.log(JSON.stringify({
  nodes: nodes.map((n) => n.node),
  parsed: ZSchedulerRunInputSchema.parse({ waitMs: 0 }),
  wrong: typeof wrong,
  refused,
  created: created.stat.version,
}));
`;

describe('the packed SDK', () => {
  it(
    'installs from its tarball outside the repository, type-checks strictly and runs against a live server',
    { timeout: 300_000 },
    async () => {
      await run('npm', ['run', 'build:package'], SDK);
      const packed = await run('npm', ['pack', path.join(SDK, 'dist'), '--pack-destination', dir, '--json'], SDK);
      const tarball = path.join(dir, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
      const files = (JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
      expect(files).toEqual(expect.arrayContaining(['client.d.ts', 'client.js', 'index.d.ts', 'index.js', 'package.json', 'README.md']));

      const app = path.join(dir, 'app');
      await run('mkdir', ['-p', app], dir);
      writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }));
      // The packages come from npm's cache when it has them (a fresh machine's `npm ci` filled it).
      await run(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          tarball,
          `typescript@${rootPackage.devDependencies.typescript}`,
          `@types/node@${rootPackage.devDependencies['@types/node']}`,
        ],
        app,
      );
      // Nothing of the server's packages came with it.
      expect(readdirSync(path.join(app, 'node_modules/@zkha'))).toEqual(['sdk']);
      const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/@zkha/sdk/package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      expect(Object.keys(manifest.dependencies).sort()).toEqual(['@trpc/client', '@trpc/server', 'eventsource', 'zod']);
      for (const f of ['index.d.ts', 'client.d.ts'])
        expect(readFileSync(path.join(app, 'node_modules/@zkha/sdk', f), 'utf8')).not.toMatch(/(from |import\()['"]@zkha\//);

      writeFileSync(path.join(app, 'main.ts'), SCRIPT);
      writeFileSync(
        path.join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            outDir: 'out',
            types: ['node'],
            lib: ['ES2023', 'DOM'],
          },
          files: ['main.ts'],
        }),
      );
      let diagnostics = '';
      try {
        await run(process.execPath, [path.join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
      } catch (err) {
        diagnostics = String((err as { stdout?: string }).stdout ?? err);
      }
      // Only @trpc/server's own declarations may complain (they name the optional `ws` package); never the SDK's, never main.ts.
      const ours = diagnostics.split('\n').filter((l) => /error TS/.test(l) && !l.startsWith('node_modules/@trpc/'));
      expect(ours).toEqual([]);

      const out = JSON.parse(await run(process.execPath, [path.join(app, 'out/main.js'), t.url], app)) as Record<string, unknown>;
      expect(out).toEqual({ nodes: ['zk1', 'zk2', 'zk3'], parsed: { waitMs: 0 }, wrong: 'number', refused: 'BAD_REQUEST', created: 0 });
    },
  );
});
