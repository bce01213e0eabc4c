'use strict';
/*
 * Loaded (--require) into worker threads only when the package runs from its TypeScript
 * source (ts-jest, the repository's tests): a thread cannot load .ts files by itself.
 * Each file is transpiled on its own with typescript.transpileModule, cached on disk by
 * content hash so that only the first thread pays for the compiler. Compiled builds
 * (dist/) never load this file. No type checking: a half-written file elsewhere that still
 * parses does not stop a thread. The crash tests' child processes load it too
 * (test/crash/fixtures/ts-hook.js).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE_DIR = path.join(os.tmpdir(), 'taskflow-worker-ts-cache');
const COMPILER_OPTIONS = {
  module: 'commonjs',
  target: 'ES2022',
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  inlineSourceMap: true,
};
const OPTIONS_KEY = JSON.stringify(COMPILER_OPTIONS) + '|v1';

let ts = null;
let tsOptions = null;

function transpile(source, filename) {
  const key = crypto.createHash('sha1').update(OPTIONS_KEY).update(filename).update(source).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  if (!ts) {
    ts = require('typescript');
    tsOptions = ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, process.cwd()).options;
  }
  const out = ts.transpileModule(source, { compilerOptions: tsOptions, fileName: filename, reportDiagnostics: false }).outputText;
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Write then rename: concurrent threads and processes never read a half-written file.
    const tmp = `${cached}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached);
  } catch {
    // a cache is an optimisation only
  }
  return out;
}

require.extensions['.ts'] = function loadTs(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
process.setSourceMapsEnabled?.(true);

module.exports = { transpile };
