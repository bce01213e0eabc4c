'use strict';
// Smoke test: the built nestjs-taskflow package (CommonJS) running under NestJS 12 (ESM-only),
// loaded through Node's require(esm) (Node >= 20.19). Plain JS, decorators applied by hand.
// Run through ./run.sh, which packs the repo root and installs the tarball here.

const TIMEOUT_MS = Number(process.env.SMOKE_TIMEOUT_MS || 60000);
const guard = setTimeout(() => {
  console.error(`smoke: timed out after ${TIMEOUT_MS} ms`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}, TIMEOUT_MS);
process.exitCode = 1; // only a completed run sets 0

const path = require('node:path');
const { createRequire } = require('node:module');

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function main() {
  require('reflect-metadata');
  const here = __dirname;
  const ownModules = path.join(here, 'node_modules') + path.sep;

  // The package must come from the tarball installed here, and must itself resolve Nest 12
  // from this project's node_modules (not the repository root's Nest 11).
  const entry = require.resolve('nestjs-taskflow');
  assert(entry.startsWith(ownModules), `nestjs-taskflow resolved from ${entry}, expected under ${ownModules}`);
  const fromPackage = createRequire(entry);
  for (const dep of ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata']) {
    const resolved = fromPackage.resolve(dep);
    assert(resolved.startsWith(ownModules), `${dep} resolved from ${resolved} for the package, expected under ${ownModules}`);
  }
  const commonVersion = require('@nestjs/common/package.json').version;
  const coreVersion = require('@nestjs/core/package.json').version;
  assert(commonVersion.startsWith('12.'), `@nestjs/common is ${commonVersion}, expected 12.x`);
  assert(coreVersion.startsWith('12.'), `@nestjs/core is ${coreVersion}, expected 12.x`);
  assert(fromPackage('@nestjs/common/package.json').version === commonVersion, 'the package sees another @nestjs/common');

  const { Injectable, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { TaskManagerModule, TaskManager, BackgroundTask, taskLog } = require('nestjs-taskflow');

  class FlakyService {
    constructor() {
      this.calls = 0;
    }
    async work(label) {
      this.calls += 1;
      taskLog(`attempt ${this.calls} for ${label}`);
      if (this.calls === 1) throw new Error('transient failure');
      return `done ${label}`;
    }
  }
  Injectable()(FlakyService);
  BackgroundTask({ retries: 1 })(FlakyService.prototype, 'work', Object.getOwnPropertyDescriptor(FlakyService.prototype, 'work'));

  class SmokeModule {}
  Module({ imports: [TaskManagerModule.forRoot({})], providers: [FlakyService] })(SmokeModule);

  const app = await NestFactory.createApplicationContext(SmokeModule, { logger: ['error', 'warn'] });
  try {
    await app.init();
    const manager = app.get(TaskManager);
    const svc = app.get(FlakyService);
    const id = manager.addTask(svc.work, ['nest12']);
    assert(typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id), `addTask returned ${id}`);
    const record = await manager.waitFor(id);
    assert(record.status === 'success', `status ${record.status} (error ${record.error})`);
    assert(record.retries_used === 1, `retries_used ${record.retries_used}`);
    assert(record.func_name === 'FlakyService.work', `func_name ${record.func_name}`);
    assert(svc.calls === 2, `the method ran ${svc.calls} times`);
    assert(record.logs.includes('--- Retry 1 ---'), `logs ${JSON.stringify(record.logs)}`);
    console.log(
      `smoke: NestJS ${coreVersion} (core) / ${commonVersion} (common), Node ${process.version}: task ${id} ${record.status}, retries_used ${record.retries_used}`,
    );
  } finally {
    await app.close();
  }
}

function finish(code) {
  clearTimeout(guard);
  console.log(code === 0 ? '1 passed, 0 failed' : '0 passed, 1 failed');
  process.exitCode = code;
  // Should exit by itself once the app is closed; if some handle lingers, say so and exit anyway.
  setTimeout(() => {
    console.error('smoke: warning: the process was still alive 5 s after app.close(); exiting');
    process.exit(code);
  }, 5000).unref();
}

main().then(
  () => finish(0),
  (error) => {
    console.error('smoke: FAILED:', error && error.stack ? error.stack : error);
    finish(1);
  },
);
