// Import rules for lib/, checked in CI (`npm run check:deps`). Layers, lowest first; a folder
// imports only folders of its own layer or below:
//   task, errors, constants -> options -> observers, crypto, decorators, discovery -> storage
//   -> engine -> persistence, schedule -> stream -> web -> auth -> http -> integrations
//   -> dashboard, module
// The rules below state the boundaries that matter most by name, so a violation says which
// one it broke. Type-only imports count: a circle through types is still a tangle.

/** The path of one folder directly under lib/, as a dependency-cruiser path pattern. */
const folder = (name) => `^lib/${name}/`;
const anyOf = (...names) => `^lib/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files import each other in a circle: split out what both need.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Folders of lib/ import each other in a circle: one of them is in the wrong layer.',
      scope: 'folder',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'core-not-typeorm',
      severity: 'error',
      comment: 'The engine, scheduler, stream, web, auth and controllers work on the storage interface, never on the TypeORM backend.',
      from: { path: anyOf('engine', 'schedule', 'http', 'stream', 'web', 'auth') },
      to: { path: folder('persistence/typeorm') },
    },
    {
      name: 'http-not-persistence',
      severity: 'error',
      comment: 'Controllers reach stored tasks through the TaskManager and the storage interface, not the persistence layer.',
      from: { path: folder('http') },
      to: { path: folder('persistence') },
    },
    {
      name: 'integrations-above-core',
      comment:
        'The optional integrations (Prometheus, health, OpenAPI) sit above the engine, storage and controllers and below the modules: nothing of the core imports them.',
      severity: 'error',
      from: { path: '^lib/', pathNot: [anyOf('integrations', 'module', 'dashboard'), '^lib/index\\.ts$'] },
      to: { path: folder('integrations') },
    },
    {
      name: 'integrations-below-module',
      severity: 'error',
      comment: 'An integration is wired in by the modules, never the other way round.',
      from: { path: folder('integrations') },
      to: { path: anyOf('module', 'dashboard') },
    },
    {
      name: 'decorators-not-engine',
      severity: 'error',
      comment: 'Decorators only record metadata; the engine reads it, never the other way round.',
      from: { path: folder('decorators') },
      to: { path: folder('engine') },
    },
    {
      name: 'task-is-pure',
      severity: 'error',
      comment: 'lib/task holds the public data types and constants: it imports nothing else of lib/.',
      from: { path: folder('task') },
      to: { path: '^lib/', pathNot: folder('task') },
    },
    {
      name: 'dashboard-client-isolated',
      severity: 'error',
      comment: "The dashboard's browser code shares only the task types with the server; anything else would be bundled into the page.",
      from: { path: folder('dashboard/client') },
      to: { path: '^lib/', pathNot: anyOf('task', 'dashboard/client') },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file (a typo, or a file moved without its importers).',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-dev-dependencies',
      severity: 'error',
      comment: 'The published library may import only dependencies and peerDependencies, not devDependencies.',
      // The worker threads' TypeScript hook runs only from the source tree (tests), never from dist.
      from: { path: '^lib/', pathNot: [folder('dashboard/client'), '^lib/executors/source-hook\\.js$'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm-peer'] },
    },
  ],
  options: {
    // `import type` too (the compiled output drops it, but the design dependency is there).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^lib/dashboard/assets/', '\\.d\\.ts$'] },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
