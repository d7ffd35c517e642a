import { defineConfig } from 'tsup';

/**
 * The SDK as a package that installs anywhere: JavaScript plus one declaration file per entry. The server's
 * packages are private, so what the SDK takes from them is bundled in: @zkha/core's shared zod schemas as
 * code here; the declarations come from rollup.dts.config.mjs. Public packages stay dependencies.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', client: 'src/client.ts' },
  tsconfig: 'tsconfig.build.json',
  format: ['esm'],
  target: 'node20',
  platform: 'neutral',
  outDir: 'dist',
  clean: true,
  noExternal: [/^@zkha\//],
  external: ['@trpc/client', '@trpc/server', 'eventsource', 'zod'],
});
