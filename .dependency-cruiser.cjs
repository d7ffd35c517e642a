/**
 * The import rules of the repository, written down once and checked by `npm test` (npm run test:deps).
 *
 * Layers, inner to outer: domain (packages/core) ← adapters (zk, zk-local, db, storage, logs, node-control, agent)
 * ← services (packages/services) ← api (packages/api, packages/sdk) ← apps. A layer imports only layers
 * inside it; the api reaches the adapters through the services only; nothing imports in a circle.
 */
const ADAPTERS = '^packages/(zk|zk-local|db|storage|logs|node-control|agent)/';
// Tests, their helpers and the scripts that capture test fixtures from real servers.
const TESTS = '(\\.test\\.ts$|/testing\\.ts$|/test-helpers\\.ts$|\\.child\\.ts$|/fixtures/)';
// The domains of packages/services (one folder each), lowest first. A domain imports only the domains before it, so
// no two folders import each other around a circle; shared/ (the bus, the clock, metrics) comes first and imports
// none. Only the composition root (container.ts, with its steps in wiring/) and the entry (index.ts) see every domain.
const SERVICE_DOMAINS = [
  'shared',
  'logs',
  'capacity',
  'files',
  'liveness',
  'control-plane',
  'migrations',
  'storage-nodes',
  'scheduler',
  'ensemble',
  'workload',
  'znodes',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or around a circle (type-only imports included): split the shared part out.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'packages/core holds the domain: plain types, rules and schemas, importing no other zkha package.',
      from: { path: '^packages/core/' },
      to: { path: '^(packages/(?!core/)|apps/)' },
    },
    {
      name: 'adapters-stay-below-services',
      severity: 'error',
      comment: 'An adapter (ZooKeeper, SQLite, files, logs, node control, the agent) knows nothing of the services, the API or the apps.',
      from: { path: ADAPTERS, pathNot: TESTS },
      to: { path: '^(packages/(services|api|sdk)/|apps/)' },
    },
    ...SERVICE_DOMAINS.map((domain, i) => ({
      name: `services-domain-${domain}-imports-only-lower-domains`,
      severity: 'error',
      comment: `packages/services/src/${domain}/ imports only the domains listed before it in SERVICE_DOMAINS, never the composition root: a domain that needs a later one takes it as a dependency (a port or a callback) wired in container.ts (wiring/).`,
      from: { path: `^packages/services/src/${domain}/`, pathNot: TESTS },
      to: {
        path: `^packages/services/src/(${[...SERVICE_DOMAINS.slice(i + 1).map((d) => `${d}/`), 'container\\.ts$', 'index\\.ts$'].join('|')})`,
      },
    })),
    {
      name: 'services-stay-below-api',
      severity: 'error',
      comment: 'The services know nothing of how they are served (tRPC, REST, the SDK) nor of the apps.',
      from: { path: '^packages/services/', pathNot: TESTS },
      to: { path: '^(packages/(api|sdk)/|apps/)' },
    },
    {
      name: 'api-reaches-services-only',
      severity: 'error',
      comment: 'The tRPC routers call the services, never an adapter (the log store, the ZooKeeper client...) directly.',
      from: { path: '^packages/api/', pathNot: TESTS },
      to: { path: ADAPTERS },
    },
    {
      name: 'api-stays-below-apps',
      severity: 'error',
      from: { path: '^packages/(api|sdk)/', pathNot: TESTS },
      to: { path: '^apps/' },
    },
    {
      name: 'test-helpers-only-in-tests',
      severity: 'error',
      comment: 'Test helpers start real ensembles and servers: production code never imports them.',
      from: { path: '^(packages|apps)/', pathNot: `${TESTS}|^e2e/|^bench/` },
      to: { path: TESTS },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.build|\\.turbo)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
