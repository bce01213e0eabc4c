/**
 * Row 1 beside the engine's: the per-task cost of context propagation (propagateContext on
 * and off) and of OpenTelemetry (its API not installed, installed with no tracer provider,
 * and a provider recording every span). N no-op tasks added in one loop inside an
 * AsyncLocalStorage context (as a request's would be), timed from the first addTask to the
 * last success, memory only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { nowMs, scenarioMain, settle } from '../common';
import { managerApp } from '../fixtures';

export interface EngineContextParams {
  n: number;
  cap: number;
  propagateContext: boolean;
  /** absent: @opentelemetry/api cannot be resolved (run with bench/hide-packages); idle: installed, no provider; recording: a provider with no exporter. */
  tracing: 'absent' | 'idle' | 'recording';
}

export interface EngineContextResult {
  perSecond: number;
  /** Wall time per task, ns. */
  nsPerTask: number;
}

const request = new AsyncLocalStorage<{ requestId: string }>();

scenarioMain<EngineContextParams, EngineContextResult>(async (p) => {
  if (p.tracing === 'recording') {
    // Loaded here only: with `absent` the API cannot be resolved.
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  }
  const { app, manager, noop } = await managerApp({ maxConcurrentTasks: p.cap, propagateContext: p.propagateContext });
  try {
    const addAll = (n: number) =>
      request.run({ requestId: 'bench' }, () => {
        for (let i = 0; i < n; i++) manager.addTask(noop.run);
      });
    addAll(2000);
    await manager.drain();
    await settle();
    const t0 = nowMs();
    addAll(p.n);
    await manager.drain();
    const seconds = (nowMs() - t0) / 1000;
    return { perSecond: p.n / seconds, nsPerTask: (seconds * 1e9) / p.n };
  } finally {
    await app.close();
  }
});
