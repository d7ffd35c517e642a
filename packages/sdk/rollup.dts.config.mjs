import { dts } from 'rollup-plugin-dts';

/**
 * The SDK's declarations, one file per entry, with everything from the private @zkha/* packages inlined
 * (tsconfig.build.json maps them to sources and to the generated `.build/app-router.ts`); public packages stay
 * imports. tsup's own declaration step keeps every dependency external, which is why this one is separate.
 */
export default {
  input: { index: 'src/index.ts', client: 'src/client.ts' },
  output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: '[name]-[hash].d.ts' },
  external: (id) => /^(@trpc\/|eventsource$|zod($|\/))/.test(id),
  plugins: [dts({ tsconfig: 'tsconfig.build.json', compilerOptions: { composite: false, incremental: false } })],
};
