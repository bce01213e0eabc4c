// Jest, as four projects run by one `npm test` (`jest`, several test files at once), each also on its own:
//   unit     test/unit/**: no server, no child process, no browser (`npm run test:unit`)
//   e2e      the rest of test/: Nest apps over real HTTP and real databases (`npm run test:e2e`)
//   crash    test/crash/**: child-process apps killed and restarted (`npm run test:crash`)
//   browser  the suites that drive Chromium through test/support/browser.ts (`npm run test:browser`)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TEST_DIR = path.join(__dirname, 'test');
const SPEC = /\.(spec|e2e-spec)\.ts$/;

function specFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : specFiles(full);
    return SPEC.test(entry.name) ? [full] : [];
  });
}

/** A suite is a browser suite when it imports the Chromium harness: found, not listed, so new ones join by themselves. */
const USES_BROWSER = /from '(\.\.\/)+support\/browser'/;
const browserSuites = specFiles(TEST_DIR).filter((file) => USES_BROWSER.test(fs.readFileSync(file, 'utf8')));

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (file) => `^${escape(file)}$`;
const under = (folder) => `^${escape(path.join(TEST_DIR, folder) + path.sep)}`;
const specsUnder = (folder) => under(folder) + `.*${SPEC.source}`;

function project(displayName, fields) {
  return {
    displayName,
    // Transpile only: the type-check of lib/ and test/ is `tsc -p tsconfig.json --noEmit` (npm run check),
    // so each suite does not type-check the whole library again (that was most of the suite's time).
    transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
    // Disables the AsyncLocalStorage instances a file created when it ends (see the file).
    testEnvironment: path.join(TEST_DIR, 'support', 'test-environment.js'),
    rootDir: __dirname,
    roots: ['<rootDir>/test'],
    testRegex: SPEC.source,
    ...fields,
  };
}

/**
 * Test files run this many at a time, each in its own worker process. Most suites spend their
 * time waiting on real time (leases, black-holed connections, child processes restarting, a
 * browser), not on the CPU, so even a 2-core machine runs two at once at nearly twice the speed
 * of one; suites do not share ports, files or tables (listen(0), temp dirs, uniquePrefix()).
 * At most 4: more would not shorten the run much (its longest files take ~30 s) but would
 * multiply database connections and browsers. `--runInBand` still runs one file at a time.
 */
const WORKERS = Math.min(4, Math.max(2, os.availableParallelism()));

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  maxWorkers: WORKERS,
  // Bundles the dashboard's script before any suite serves it (the bundle is not committed).
  globalSetup: path.join(TEST_DIR, 'support', 'dashboard-global-setup.ts'),
  projects: [
    project('unit', { testRegex: specsUnder('unit') }),
    project('e2e', { testPathIgnorePatterns: ['/node_modules/', under('unit'), under('crash'), ...browserSuites.map(exactly)] }),
    project('crash', { testRegex: specsUnder('crash') }),
    // A pattern that matches no file when there is no browser suite (an empty list would mean the default).
    project('browser', { testRegex: browserSuites.length ? browserSuites.map(exactly) : ['^$'] }),
  ],
};
