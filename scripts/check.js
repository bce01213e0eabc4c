#!/usr/bin/env node
// `npm run check`: every static check, each run even when an earlier one failed (so one CI
// run reports all of them), then a one-line verdict per check. Exits 1 if any failed.
// typecheck:dashboard joins in when package.json defines it.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const scripts = require(path.join(__dirname, '..', 'package.json')).scripts;
const checks = ['lint', 'format:check', 'check:deps', 'typecheck:dashboard'].filter((name) => scripts[name]);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const results = checks.map((name) => {
  console.log(`\n--> npm run ${name}`);
  const started = Date.now();
  const run = spawnSync(npm, ['run', '--silent', name], { stdio: 'inherit', cwd: path.join(__dirname, '..') });
  return { name, ok: run.status === 0, seconds: ((Date.now() - started) / 1000).toFixed(1) };
});

console.log('\nchecks:');
for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.name.padEnd(20)} ${r.seconds}s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
