/**
 * Rows 1b and 1c beside the engine's: the per-task cost of context propagation and of
 * OpenTelemetry, each measured as a pair of managers in one process, run in alternating rounds
 * (A B A B ...), so the difference is not lost in the noise between processes. N no-op tasks per
 * round, added in one loop inside an AsyncLocalStorage context (as a request's would be), timed
 * from the first addTask to the last success, memory only.
 *
 * - `propagation`: propagateContext on vs off (run with @opentelemetry/api hidden, bench/hide-packages);
 * - `idle`: @opentelemetry/api installed, no tracer provider, vs no tracer (what the engine has when
 *   the package is not installed);
 * - `recording`: a BasicTracerProvider with no exporter (every span made and ended) vs no tracer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Test } from '@nestjs/testing';
import { TaskManager, TaskManagerModule, TaskManagerOptions } from '../../lib';
// Internal, for the baseline only: the tracer the engine gets when @opentelemetry/api is not installed.
import { ATTEMPT_TRACER } from '../../lib/engine/attempt-tracer';
import { median, nowMs, scenarioMain, settle } from '../common';
import { Noop } from '../fixtures';

export interface EngineContextParams {
  pair: 'propagation' | 'idle' | 'recording';
  n: number;
  rounds: number;
  cap: number;
}

export interface EngineContextResult {
  /** Median wall time per task (ns) of each side of the pair: `a` is the feature on, `b` its baseline. */
  a: number;
  b: number;
  /** Per-round figures, in run order. */
  roundsA: number[];
  roundsB: number[];
}

const request = new AsyncLocalStorage<{ requestId: string }>();

async function manager(
  options: TaskManagerOptions,
  withoutTracer: boolean,
): Promise<{ manager: TaskManager; noop: Noop; close: () => Promise<void> }> {
  let builder = Test.createTestingModule({ imports: [TaskManagerModule.forRoot(options)], providers: [Noop] });
  if (withoutTracer) builder = builder.overrideProvider(ATTEMPT_TRACER).useValue(null);
  const moduleRef = await builder.compile();
  moduleRef.useLogger(['error']);
  await moduleRef.init();
  return { manager: moduleRef.get(TaskManager), noop: moduleRef.get(Noop), close: () => moduleRef.close() };
}

/** Wall time per task (ns) of n tasks added inside one request context. */
async function round(m: { manager: TaskManager; noop: Noop }, n: number): Promise<number> {
  await settle();
  const t0 = nowMs();
  request.run({ requestId: 'bench' }, () => {
    for (let i = 0; i < n; i++) m.manager.addTask(m.noop.run);
  });
  await m.manager.drain();
  return ((nowMs() - t0) * 1e6) / n;
}

scenarioMain<EngineContextParams, EngineContextResult>(async (p) => {
  if (p.pair === 'recording') {
    // Loaded here only: the propagation pair runs with the API hidden.
    const { context, trace } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  }
  const base = { maxConcurrentTasks: p.cap };
  const a = await manager({ ...base, propagateContext: true }, false);
  const b = p.pair === 'propagation' ? await manager({ ...base, propagateContext: false }, false) : await manager(base, true);
  try {
    await round(a, 2000);
    await round(b, 2000);
    const roundsA: number[] = [];
    const roundsB: number[] = [];
    for (let r = 0; r < p.rounds; r++) {
      // Alternate which side goes first, so neither always runs on a warmer heap.
      if (r % 2 === 0) {
        roundsA.push(await round(a, p.n));
        roundsB.push(await round(b, p.n));
      } else {
        roundsB.push(await round(b, p.n));
        roundsA.push(await round(a, p.n));
      }
    }
    return { a: median(roundsA), b: median(roundsB), roundsA, roundsB };
  } finally {
    await a.close();
    await b.close();
  }
});
