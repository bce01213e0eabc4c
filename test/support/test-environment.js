// Jest's node environment, plus one cleanup: every AsyncLocalStorage created while a test file
// ran is disabled when the file ends. Each test file loads lib/ afresh (jest's module registry),
// so each creates the package's AsyncLocalStorage instances again; on Node 20 an instance stays
// enabled for the life of the worker process once used, and every later promise and callback of
// every later file pays for all of them (100 instances: a plain promise loop 22 ms -> 5.4 s).
// The same applies to an app's own jest suites that load nestjs-taskflow in many files (README).
const asyncHooks = require('node:async_hooks');
const { TestEnvironment } = require('jest-environment-node');

const Original = asyncHooks.AsyncLocalStorage;

class TaskflowTestEnvironment extends TestEnvironment {
  created = [];

  async setup() {
    await super.setup();
    const created = this.created;
    // Test code reaches node:async_hooks through the real module object (core modules are not
    // re-evaluated per file), so a subclass put there sees every instance this file creates.
    asyncHooks.AsyncLocalStorage = class TrackedAsyncLocalStorage extends Original {
      constructor(...args) {
        super(...args);
        created.push(this);
      }
    };
  }

  async teardown() {
    asyncHooks.AsyncLocalStorage = Original;
    for (const storage of this.created.splice(0)) storage.disable();
    await super.teardown();
  }
}

module.exports = TaskflowTestEnvironment;
