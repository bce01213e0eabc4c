// Lint: typescript-eslint's recommended rules without type information (runs in seconds;
// the compiler's strict mode covers what the type-checked rules would add), plus the few
// rules this codebase relies on by convention. `npm run lint`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.bench-run/**',
      '.bench-build/**',
      '.bench-cache/**',
      '.tfbuild/**',
      'smoke/nest12/node_modules/**',
      // Shipped to the browser as they are (or produced by the dashboard bundle): not source.
      'lib/dashboard/assets/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (a signature, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-throw-literal': 'error',
      'object-shorthand': ['error', 'properties'],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Empty arrow functions are the idiom for "ignore this rejection": `.catch(() => undefined)`.
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // The library: Nest's Logger, never the console.
    files: ['lib/**/*.ts'],
    ignores: ['lib/dashboard/client/**'],
    rules: {
      'no-console': 'error',
      // `(...args: any[]) => unknown` is how a method of any signature is typed.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
    },
  },
  {
    // The dashboard's browser code (TypeScript ES modules bundled by esbuild).
    files: ['lib/dashboard/client/**/*.ts', 'lib/dashboard/**/*.browser.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-console': 'error' },
  },
  {
    // The sample is what users copy: Nest's Logger there too (its one console call, on a
    // failed bootstrap, says so where it is).
    files: ['sample/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // Tests and benchmarks print their measured figures, and reach internals loosely.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript tooling (configs, CI helpers, the crash tests' transpile hook): CommonJS on Node.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // A module-scope `const crypto = require('node:crypto')` does not redeclare the global.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
);
