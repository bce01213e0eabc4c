/**
 * Loaded with `node --require` in a scenario child: the packages named in BENCH_HIDE_PACKAGES
 * (comma-separated) cannot be resolved, as if they were not installed.
 */
// The module system itself, not a copy of its exports: patched in place.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('node:module') as object;

const hidden = (process.env.BENCH_HIDE_PACKAGES ?? '').split(',').filter(Boolean);
type Resolve = (this: unknown, request: string, ...rest: unknown[]) => string;
const internals = Module as unknown as { _resolveFilename: Resolve };
const resolve = internals._resolveFilename;

internals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  if (hidden.some((name) => request === name || request.startsWith(`${name}/`))) {
    throw Object.assign(new Error(`Cannot find module '${request}' (hidden by bench/hide-packages)`), { code: 'MODULE_NOT_FOUND' });
  }
  return resolve.call(this, request, ...rest);
};
