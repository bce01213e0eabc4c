import { INestApplication, Injectable, LoggerService, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BackgroundTask, TaskAdminModule, TaskAdminOptions, TaskManager, TaskRecord, getTaskContext, taskLog } from '../../lib';
import { AdminTuning, DEFAULT_ADMIN_TUNING, TASKFLOW_ADMIN_TUNING } from '../../lib/options/admin-tuning';
import { HttpPlatform, PlatformSetup, createPlatformApp } from './http-platforms';

/** Gates that `Jobs.hold` waits on, by key: a test opens one to let its task finish. */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();

export function gate(key: string): { promise: Promise<void>; open: () => void } {
  let entry = gates.get(key);
  if (!entry) {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    entry = { promise, open };
    gates.set(key, entry);
  }
  return entry;
}

/** Background tasks the HTTP tests drive. */
@Injectable()
export class Jobs {
  @BackgroundTask()
  async ok(label: string): Promise<string> {
    taskLog(`ok ${label}`);
    return label;
  }

  @BackgroundTask()
  async fail(message: string): Promise<void> {
    throw new Error(message);
  }

  /** Logs `lines` lines in one go: many changes of one record within one tick. */
  @BackgroundTask()
  async chatty(lines: number): Promise<void> {
    for (let i = 0; i < lines; i++) taskLog(`line ${i}`);
  }

  /** Runs until `gate(key)` is opened or the task is cancelled. */
  @BackgroundTask()
  async hold(key: string): Promise<void> {
    const signal = getTaskContext()?.signal;
    await Promise.race([gate(key).promise, new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }))]);
  }
}

export interface HttpApp {
  app: INestApplication;
  manager: TaskManager;
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The HTTP server, for supertest. */
  server: ReturnType<INestApplication['getHttpServer']>;
  jobs: Jobs;
  close(): Promise<void>;
}

export interface HttpAppSetup extends PlatformSetup {
  /** express (the default) or Fastify. */
  platform?: HttpPlatform;
  tuning?: Partial<AdminTuning>;
  providers?: Provider[];
  /** Routes of the host app beside the admin routes. */
  controllers?: Type[];
  logger?: LoggerService | false;
  /** Runs on the app before it listens (e.g. `app.setGlobalPrefix('api')`). */
  configure?: (app: INestApplication) => void;
}

/** A real app listening on 127.0.0.1, port 0, with TaskAdminModule and the Jobs provider. */
export async function createHttpApp(options: TaskAdminOptions = {}, setup: HttpAppSetup = {}): Promise<HttpApp> {
  const builder = Test.createTestingModule({
    imports: [TaskAdminModule.forRoot({ shutdownGracePeriod: 0, ...options })],
    providers: [Jobs, ...(setup.providers ?? [])],
    controllers: setup.controllers ?? [],
  });
  if (setup.tuning) builder.overrideProvider(TASKFLOW_ADMIN_TUNING).useValue({ ...DEFAULT_ADMIN_TUNING, ...setup.tuning });
  const moduleRef = await builder.compile();
  const app = createPlatformApp(moduleRef, setup.platform ?? 'express', setup, { logger: setup.logger ?? false });
  setup.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let closed = false;
  return {
    app,
    manager: app.get(TaskManager),
    url,
    server: app.getHttpServer(),
    jobs: app.get(Jobs),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** Adds a task and waits for its terminal record. */
export async function runToEnd(manager: TaskManager, name: 'Jobs.ok' | 'Jobs.fail', arg: string, tags?: Record<string, string>): Promise<TaskRecord> {
  const id = manager.addTask(name, [arg], tags ? { tags } : {});
  return manager.waitFor(id);
}

/** Adds a `Jobs.hold` task and resolves with its id once it is running. */
export function startHeld(manager: TaskManager, key: string): Promise<string> {
  return new Promise((resolve) => {
    let id = '';
    const sub = manager.events$.subscribe((r) => {
      if (r.task_id === id && r.status === 'running') {
        sub.unsubscribe();
        resolve(id);
      }
    });
    id = manager.addTask('Jobs.hold', [key]);
  });
}
