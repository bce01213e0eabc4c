#!/usr/bin/env node
// Bundles the dashboard's browser code (lib/dashboard/client/*.ts, ES modules) into the
// one script the page loads, lib/dashboard/assets/app.js (git-ignored), with esbuild:
// ES2020, minified, no source map, no eval. dashboard-assets.ts hashes and compresses it.
//
//   node scripts/build-dashboard.mjs               # the bundle only (jest's globalSetup runs this)
//   node scripts/build-dashboard.mjs --copy <dir>  # then lib/dashboard/assets is copied to <dir>
//
// Only the client and the dependency-free constants and types of lib/task may end up in
// the bundle: anything else (Nest, Node, a package) fails the build.
import { build } from 'esbuild';
import { cpSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'lib/dashboard/client/main.ts');
const assets = join(root, 'lib/dashboard/assets');
const outfile = join(assets, 'app.js');
const ALLOWED = [/^lib\/dashboard\/client\/[\w-]+\.ts$/, /^lib\/task\/[\w-]+\.ts$/];

const started = performance.now();
const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  banner: { js: '/* nestjs-taskflow dashboard */' },
  metafile: true,
  logLevel: 'warning',
});

const outside = Object.keys(result.metafile.inputs)
  .map((input) => relative(root, resolve(root, input)).split('\\').join('/'))
  .filter((input) => !ALLOWED.some((pattern) => pattern.test(input)));
if (outside.length) {
  rmSync(outfile, { force: true });
  console.error(`build-dashboard: the bundle would contain code from outside the client and lib/task:\n  ${outside.join('\n  ')}`);
  process.exit(1);
}

const copyAt = process.argv.indexOf('--copy');
if (copyAt > 0) {
  const target = resolve(root, process.argv[copyAt + 1] ?? '');
  if (!process.argv[copyAt + 1]) throw new Error('build-dashboard: --copy needs a directory');
  rmSync(target, { recursive: true, force: true });
  cpSync(assets, target, { recursive: true });
}

const ms = Math.round(performance.now() - started);
if (!process.env.CI || process.argv.includes('--verbose') || copyAt > 0) {
  console.log(`dashboard bundle: ${relative(root, outfile)} ${statSync(outfile).size} bytes in ${ms} ms`);
}
