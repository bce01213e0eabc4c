#!/usr/bin/env node
// `npm run check`: every static check, each run even when an earlier one failed (so one CI
// run reports all of them), then a one-line verdict per check. Exits 1 if any failed.
// The dashboard's browser code has its own tsconfig (DOM, no Node): it is type-checked by the
// typecheck:dashboard script when package.json defines one, else straight from that tsconfig.
// The rest of the TypeScript (lib, test, sample, bench) is type-checked by tsconfig.json.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const scripts = require(path.join(root, 'package.json')).scripts;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const dashboardTsconfig = 'lib/dashboard/client/tsconfig.json';

const checks = ['lint', 'format:check', 'check:deps'].map((name) => ({ name, argv: [npm, 'run', '--silent', name] }));
// lib/, test/, sample/ and bench/ as one program: jest only transpiles (ts-jest isolatedModules), so this is their type-check.
checks.push({ name: 'typecheck', argv: [process.execPath, require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'] });
if (scripts['typecheck:dashboard']) checks.push({ name: 'typecheck:dashboard', argv: [npm, 'run', '--silent', 'typecheck:dashboard'] });
else if (fs.existsSync(path.join(root, dashboardTsconfig)))
  checks.push({ name: 'typecheck:dashboard', argv: [process.execPath, require.resolve('typescript/bin/tsc'), '-p', dashboardTsconfig] });

const results = checks.map(({ name, argv }) => {
  console.log(`\n--> ${argv.join(' ')}`);
  const started = Date.now();
  const run = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: root });
  return { name, ok: run.status === 0, seconds: ((Date.now() - started) / 1000).toFixed(1) };
});

console.log('\nchecks:');
for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(20)} ${r.seconds}s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
