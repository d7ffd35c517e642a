// The lint rules of the repository, written down once. Each workspace runs `eslint .` (its `lint` script,
// through turbo in `npm test`) and finds this file by walking up. Formatting is Prettier's job
// (`.prettierrc.json`), so eslint-config-prettier switches off the rules that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.build/**',
      '**/.turbo/**',
      '**/coverage/**',
      'data/**',
      'logs/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig.json of its workspace, so the types are the ones `tsc` sees.
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'playwright.config.ts'], defaultProject: 'tsconfig.base.json' },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A switch over a union names every member or says `default`: a new node state or event cannot slip through.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `_name` marks a parameter or binding that is deliberately unused (an interface's signature, a skipped tuple slot).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // A `let` bound late, read by closures created before it (two services that need each other), stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Numbers and booleans read fine in messages; objects and undefined do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // An async function with no await is how a synchronous body implements a Promise-returning port (the log
      // store, a node controller, a Fastify route): its throws become rejections, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // Event handlers and timers may be async: their rejections are handled inside (checked by no-floating-promises).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  {
    // Black-box tests read JSON bodies off HTTP responses (REST, tRPC over fetch, Prometheus, Grafana) and
    // assert on them with expect(): the body is untyped by nature, and typing each one would restate the
    // schema under test. Only the any-family is relaxed, and only in tests; production code keeps it.
    files: ['**/*.test.ts', '**/*.spec.ts', '**/testing.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['apps/web/**/*.tsx'],
    ...jsxA11y.flatConfigs.recommended,
  },
  {
    // Config files outside any tsconfig: plain JavaScript rules only.
    files: ['**/*.{js,cjs,mjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
