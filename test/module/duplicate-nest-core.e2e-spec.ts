/**
 * Two copies of @nestjs/core in one process (the package installed from a folder with its
 * own node_modules): a start fails with a message that says so, not with Nest's "can't
 * resolve dependencies of the TaskExplorer". Real copies, in child processes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertOneNestCore, loadedNestCoreCopies } from '../../lib/module/nest-core-copies';

const ROOT = path.resolve(__dirname, '..', '..');
const HOOK = path.join(ROOT, 'test', 'crash', 'fixtures', 'ts-hook.js');
const FIXTURE = path.join(__dirname, 'fixtures', 'duplicate-core-app.ts');
const REPO_CORE = path.dirname(require.resolve('@nestjs/core/package.json'));

function start(copy: string, order: 'before' | 'after'): { outcome: string; message?: string } {
  // The copy's own dependencies (@nestjs/common, tslib, ...) resolve to the repository's, as npm would hoist them.
  const result = spawnSync(process.execPath, ['-r', HOOK, FIXTURE, copy, order], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the child printed no outcome: ${result.stderr || result.error?.message}`);
  return JSON.parse(line) as { outcome: string; message?: string };
}

describe('two copies of @nestjs/core', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let copy: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-dup-core-'));
    copy = path.join(dir, 'node_modules', '@nestjs', 'core');
    fs.cpSync(REPO_CORE, copy, { recursive: true, filter: (source) => !source.endsWith('.d.ts') && !source.endsWith('.map') });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['before', 'after'] as const)(
    'are refused at startup with the reason and the fix (app’s copy loaded %s the module is defined)',
    (order) => {
      const { outcome, message } = start(copy, order);
      expect(outcome).toBe('failed');
      expect(message).toContain(`two copies of @nestjs/core are loaded: ${copy} (the app's) and ${REPO_CORE} (nestjs-taskflow's)`);
      expect(message).toMatch(/installed from a folder that has its own node_modules .*npm pack.*--install-links/);
      expect(message).not.toMatch(/can't resolve dependencies/);
    },
  );

  it('one copy starts', () => {
    expect(start(REPO_CORE, 'before')).toEqual({ outcome: 'started' });
  });

  it('counts copies by folder, whichever of their files are loaded', () => {
    const cache = (files: string[]) => Object.fromEntries(files.map((f) => [f, {} as NodeModule]));
    const a = path.join('/app', 'node_modules', '@nestjs', 'core');
    const b = path.join('/lib', 'node_modules', '@nestjs', 'core');
    const one = cache([path.join(a, 'index.js'), path.join(a, 'injector', 'module-ref.js'), '/app/node_modules/@nestjs/common/index.js']);
    expect(loadedNestCoreCopies(one)).toEqual([a]);
    expect(() => assertOneNestCore(one, a)).not.toThrow();
    const two = cache([path.join(a, 'index.js'), path.join(b, 'index.js')]);
    expect(() => assertOneNestCore(two, b)).toThrow(`two copies of @nestjs/core are loaded: ${a} (the app's) and ${b} (nestjs-taskflow's)`);
  });
});
