#!/usr/bin/env node
// Runs dependency-cruiser (`npm run check:deps`). dependency-cruiser 16 (the last to run on
// Node 20) parses TypeScript only with typescript < 6 and otherwise silently cruises no .ts
// file at all. The compiler API it uses (createSourceFile and the AST) is unchanged in 6,
// so this tells its version probe a 5.x number and then runs the real CLI on the real compiler.
// Remove once dependency-cruiser accepts TypeScript 6.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const typescriptManifest = require.resolve('typescript/package.json');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const loaded = load.call(this, request, parent, isMain);
  if (request === 'typescript/package.json' || request === typescriptManifest) {
    return { ...loaded, version: '5.9.99' };
  }
  return loaded;
};

const bin = path.join(__dirname, '..', 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
process.argv.splice(1, 1, bin);
import(bin).catch((error) => {
  console.error(error);
  process.exit(1);
});
