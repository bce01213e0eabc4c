import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, TaskAdminModule, TaskManager, TaskManagerModule, UnknownTaskError } from '../../lib';

@Injectable()
class Mailer {
  @BackgroundTask()
  async send(address: string, attempts: number): Promise<string> {
    return `${address}:${attempts}`;
  }

  async undecorated(): Promise<void> {}

  /** Durable, so its arguments are checked to be JSON at the call. */
  @BackgroundTask({ persist: true })
  async store(value: unknown): Promise<void> {
    void value;
  }
}

/** Decorated, but never listed in a module's providers. */
class Orphan {
  @BackgroundTask()
  async run(): Promise<void> {}
}

describe("a newcomer's mistakes get messages that say which one", () => {
  let manager: TaskManager;
  let mailer: Mailer;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [TaskManagerModule.forRoot({})], providers: [Mailer] }).compile();
    await moduleRef.init();
    manager = moduleRef.get(TaskManager);
    mailer = moduleRef.get(Mailer);
  });

  it('UnknownTaskError tells an undecorated method from a decorated one whose class is not a provider, and from a .bind(...)', () => {
    const thrown = (fn: () => unknown): UnknownTaskError => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(UnknownTaskError);
        return error as UnknownTaskError;
      }
      throw new Error('expected UnknownTaskError');
    };
    expect(thrown(() => manager.addTask(mailer.undecorated)).message).toMatch(/function undecorated .*mark the method with @BackgroundTask\(\)/);
    const orphan = thrown(() => manager.addTask(new Orphan().run));
    expect(orphan.message).toMatch(/function run is marked with @BackgroundTask\(\), but its class is not a provider/);
    expect(orphan.message).not.toMatch(/mark the method/);
    const bound = thrown(() => manager.addTask(mailer.send.bind(mailer), ['a', 1]));
    expect(bound.message).toMatch(/function bound send was made by \.bind\(\.\.\.\).*pass the method itself \(this\.service\.method\)/);
    expect(bound.funcName).toBe('bound send');
  });

  it('names what an argument is with the right article', () => {
    expect(() => manager.addTask(mailer.store, [undefined])).toThrow(/args\[0\] is undefined\./);
    expect(() => manager.addTask(mailer.store, [() => 1])).toThrow(/args\[0\] is a function\./);
    expect(() => manager.addTask(mailer.store, [new ArrayBuffer(1)])).toThrow(/args\[0\] is an ArrayBuffer\./);
    expect(() => manager.addTask(mailer.store, [new Map()])).toThrow(/args\[0\] is a Map\./);
  });

  it('refuses a `path` returned by a forRootAsync factory, which would be silently ignored', async () => {
    const failure = await Test.createTestingModule({
      imports: [TaskAdminModule.forRootAsync({ useFactory: () => ({ path: '/jobs' }) as object })],
    })
      .compile()
      .catch((error: unknown) => error);
    expect(String(failure)).toMatch(/invalid option "path": expected given to forRootAsync beside the factory .*not by the factory/);
    // The same path as the one given beside the factory is harmless.
    const same = await Test.createTestingModule({
      imports: [TaskAdminModule.forRootAsync({ path: '/jobs', useFactory: () => ({ path: 'jobs/' }) as object })],
    }).compile();
    await same.close();
  });
});

/**
 * Checked by the compiler (\`tsc -p tsconfig.json\` covers test/): each @ts-expect-error
 * must meet an error. Since addTask has one signature, the error is the argument
 * mismatch ("Type 'string' is not assignable to type 'number'"), not a complaint that
 * the method is not a string.
 */
describe('addTask and enqueue types', () => {
  it('type-checks the arguments of a decorated method', () => {
    const check = (manager: TaskManager, mailer: Mailer) => {
      manager.addTask(mailer.send, ['a', 1]);
      manager.addTask('Mailer.send', ['anything', 'goes']);
      // @ts-expect-error the second argument is a number
      manager.addTask(mailer.send, ['a', 'b']);
      // @ts-expect-error the arguments are required
      manager.addTask(mailer.send);
      void manager.enqueue(mailer.send, ['a', 1]);
      void manager.enqueue('Mailer.send', ['anything']);
      // @ts-expect-error enqueue has one signature too: the error is the argument mismatch
      void manager.enqueue(mailer.send, ['a', 'b']);
      // @ts-expect-error the arguments are required
      void manager.enqueue(mailer.send);
    };
    expect(typeof check).toBe('function');
  });
});
