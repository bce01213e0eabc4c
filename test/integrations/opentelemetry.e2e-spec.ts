/**
 * A span per attempt through @opentelemetry/api's global tracer provider, recorded by the
 * SDK's in-memory exporter, with the AsyncLocalStorage context manager a Node app registers
 * (NodeSDK does the same).
 */
import { INestApplication, Injectable, Logger } from '@nestjs/common';
import { Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BackgroundTask, TaskManager, TaskManagerOptions, TaskTimeoutError, getTaskContext } from '../../lib';
import { Test } from '@nestjs/testing';
import { CpuTasks, WorkerAppModule } from '../executors/fixtures/worker-app';
import { createManagerApp } from '../support/app';
import { Gate } from '../support/gate';

@Injectable()
class Orders {
  static failures = 0;
  static gate = new Gate();
  static started = new Gate();

  @BackgroundTask({ retries: 2, delay: 0 })
  async process(orderId: string): Promise<string> {
    // Spans the task starts are children of its attempt's span.
    trace.getTracer('app').startActiveSpan(`load ${orderId}`, (span) => span.end());
    if (getTaskContext()!.attempt <= Orders.failures) throw new Error(`boom ${getTaskContext()!.attempt}`);
    return orderId;
  }

  @BackgroundTask()
  async hold(): Promise<void> {
    Orders.started.open();
    await Orders.gate.promise;
  }

  @BackgroundTask()
  async plain(n: number): Promise<number> {
    return n;
  }

  @BackgroundTask({ timeout: 0.05 })
  async slow(): Promise<void> {
    await Orders.gate.promise;
  }
}

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

function register(...processors: SpanProcessor[]): void {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), ...processors] }));
}

const attemptSpans = () => exporter.getFinishedSpans().filter((s) => s.name.startsWith('taskflow.run '));
const spanNamed = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);

/** Runs `fn` inside an active span standing for the request that adds the task; returns its result and the span. */
function inRequest<T>(name: string, fn: () => T): { value: T; request: Span } {
  return trace.getTracer('app').startActiveSpan(name, (request) => {
    try {
      return { value: fn(), request };
    } finally {
      request.end();
    }
  });
}

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  trace.disable();
  context.disable();
});

describe('OpenTelemetry: a span per attempt', () => {
  let app: INestApplication | undefined;
  let manager: TaskManager;
  const start = async (options: TaskManagerOptions = {}) => {
    ({ app, manager } = await createManagerApp(options, { providers: [Orders] }));
  };
  beforeEach(() => {
    register();
    exporter.reset();
    Orders.failures = 0;
    Orders.gate = new Gate();
    Orders.started = new Gate();
  });
  afterEach(async () => {
    Orders.gate.open();
    await app?.close();
    app = undefined;
    trace.disable();
  });

  it('each attempt is `taskflow.run <func_name>`, a child of the span active at addTask, linked to it, with the outcome and error', async () => {
    await start();
    Orders.failures = 1;
    const { value: id, request } = inRequest('POST /orders', () => manager.addTask(Orders.prototype.process, ['o-1']));
    expect((await manager.waitFor(id)).status).toBe('success');

    const [first, second] = attemptSpans();
    expect(attemptSpans()).toHaveLength(2);
    const parent = request.spanContext();
    for (const [span, attempt] of [
      [first, 1],
      [second, 2],
    ] as [ReadableSpan, number][]) {
      expect(span.name).toBe('taskflow.run Orders.process');
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(parent.traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([parent.spanId]);
      expect(span.attributes).toMatchObject({ 'taskflow.task.id': id, 'taskflow.task.function': 'Orders.process', 'taskflow.task.attempt': attempt });
      expect(span.instrumentationScope.name).toBe('nestjs-taskflow');
    }
    expect(first.attributes).toMatchObject({ 'taskflow.task.status': 'retrying', 'taskflow.task.error': 'Error: boom 1', 'error.type': 'Error' });
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Error: boom 1' });
    expect(first.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'boom 1']]);
    expect(second.attributes['taskflow.task.status']).toBe('success');
    expect(second.attributes['taskflow.task.error']).toBeUndefined();
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    expect(second.events).toEqual([]);

    // The task's own spans nest under the attempt that ran them.
    const loads = exporter.getFinishedSpans().filter((s) => s.name === 'load o-1');
    expect(loads.map((s) => s.parentSpanContext?.spanId)).toEqual([first.spanContext().spanId, second.spanContext().spanId]);
  });

  it('the last failed attempt records the exception and ERROR; a timeout says its error type', async () => {
    await start();
    Orders.failures = 3;
    const failed = manager.addTask(Orders.prototype.process, ['o-2']);
    const timedOut = manager.addTask(Orders.prototype.slow);
    await manager.waitFor(failed);
    await manager.waitFor(timedOut);
    const statuses = attemptSpans()
      .filter((s) => s.attributes['taskflow.task.id'] === failed)
      .map((s) => s.attributes['taskflow.task.status']);
    expect(statuses).toEqual(['retrying', 'retrying', 'failed']);
    const last = attemptSpans().find((s) => s.attributes['taskflow.task.status'] === 'failed' && s.attributes['taskflow.task.id'] === failed)!;
    expect(last.status.code).toBe(SpanStatusCode.ERROR);
    expect(last.events[0].name).toBe('exception');
    const timeout = attemptSpans().find((s) => s.attributes['taskflow.task.id'] === timedOut)!;
    expect(timeout.attributes).toMatchObject({ 'taskflow.task.status': 'failed', 'error.type': new TaskTimeoutError(0.05).name });
  });

  it('a cancelled attempt ends its span as cancelled, not as an error', async () => {
    await start();
    const id = manager.addTask(Orders.prototype.hold);
    await Orders.started.promise;
    expect(attemptSpans()).toEqual([]);
    await manager.cancel(id);
    await new Promise(setImmediate);
    const [span] = attemptSpans();
    expect(span.attributes['taskflow.task.status']).toBe('cancelled');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('with propagateContext off, the span starts a trace of its own and links to the span active at addTask', async () => {
    await start({ propagateContext: false });
    const { value: id, request } = inRequest('POST /orders', () => manager.addTask(Orders.prototype.process, ['o-3']));
    await manager.waitFor(id);
    const [span] = attemptSpans();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(request.spanContext().traceId);
    expect(span.links.map((l) => l.context)).toEqual([
      expect.objectContaining({ traceId: request.spanContext().traceId, spanId: request.spanContext().spanId }),
    ]);
    // The task's own spans are still children of its attempt.
    expect(spanNamed('load o-3')?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('a task added outside any span has a root span and no link', async () => {
    await start();
    await manager.waitFor(manager.addTask(Orders.prototype.process, ['o-4']));
    const [span] = attemptSpans();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
  });

  it('a span processor that throws is logged once and never fails a task', async () => {
    trace.disable();
    const throwing: SpanProcessor = {
      onStart: () => {
        throw new Error('processor down');
      },
      onEnd: () => {
        throw new Error('processor down');
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [throwing] }));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await start();
      const ids = [manager.addTask(Orders.prototype.plain, [1]), manager.addTask(Orders.prototype.plain, [2])];
      for (const id of ids) expect((await manager.waitFor(id)).status).toBe('success');
      const lines = warn.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('OpenTelemetry'));
      expect(lines).toEqual([expect.stringMatching(/^OpenTelemetry failed to record a task's span .*Error: processor down/)]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('OpenTelemetry without a registered tracer provider', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    trace.disable();
  });

  it('records nothing, and traces from the attempt after a provider is registered', async () => {
    exporter.reset();
    let manager: TaskManager;
    ({ app, manager } = await createManagerApp({}, { providers: [Orders] }));
    Orders.failures = 0;
    const untraced = inRequest('GET /', () => manager.addTask(Orders.prototype.process, ['before']));
    expect((await manager.waitFor(untraced.value)).status).toBe('success');
    expect(exporter.getFinishedSpans()).toEqual([]);

    register();
    await manager.waitFor(manager.addTask(Orders.prototype.process, ['after']));
    expect(attemptSpans().map((s) => s.name)).toEqual(['taskflow.run Orders.process']);
  });
});

describe("OpenTelemetry with executor: 'worker'", () => {
  // The pool's thread boots the fixture's module from TypeScript source: seconds on a loaded machine.
  jest.setTimeout(60_000);

  it('the attempt span is made on the app’s thread, around the worker’s run, as a child of the caller’s span', async () => {
    register();
    exporter.reset();
    const moduleRef = await Test.createTestingModule({ imports: [WorkerAppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.init();
    try {
      const manager = app.get(TaskManager);
      const tasks = app.get(CpuTasks);
      const { value: id, request } = inRequest('POST /compute', () => manager.addTask(tasks.compute, [6]));
      const record = await manager.waitFor(id);
      expect(record.status).toBe('success');
      const [span] = attemptSpans();
      expect(span.name).toBe('taskflow.run CpuTasks.compute');
      expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(span.attributes['taskflow.task.status']).toBe('success');
    } finally {
      await app.close();
      trace.disable();
    }
  });
});
