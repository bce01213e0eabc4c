/**
 * Shared helpers of the benchmarks: statistics, timing, memory, and running a
 * scenario in a child process of its own (so RSS and CPU are that scenario's only).
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Wall clock in ms with sub-ms precision, comparable between processes of this machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export function nowMs(): number {
  return performance.now();
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..1). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

export const MB = 1024 * 1024;

export function rssMB(): number {
  return process.memoryUsage().rss / MB;
}

/** Forces a full GC a few times (needs --expose-gc), so RSS/heap figures are settled. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((r) => setImmediate(r));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Samples RSS every `everyMs` and keeps the peak. */
export class RssSampler {
  peak = rssMB();
  private readonly timer: NodeJS.Timeout;
  constructor(everyMs = 20) {
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, rssMB())), everyMs);
    this.timer.unref();
  }
  stop(): number {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rssMB());
    return this.peak;
  }
}

export interface ChildOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  execArgv?: string[];
  timeoutMs?: number;
  /** Called for each non-result message (progress, coordination). */
  onMessage?: (message: unknown, send: (m: unknown) => void) => void;
  /** Environment additions. */
  env?: Record<string, string>;
}

/** Extra node flags for every scenario child, from BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=prof"). */
function flagsFromEnv(): string[] {
  return (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * Runs `scenarios/<name>.js` in a child process with `params`, resolves with the
 * `{ result }` it sends. The child gets --expose-gc.
 */
export function runChild<T>(name: string, params: unknown, options: ChildOptions = {}): Promise<T> {
  const file = path.join(__dirname, 'scenarios', `${name}.js`);
  return new Promise<T>((resolve, reject) => {
    const child = fork(file, [JSON.stringify(params)], {
      execArgv: ['--expose-gc', '--max-old-space-size=4096', ...flagsFromEnv(), ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...(options.env ?? {}) },
    });
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`scenario ${name} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs ?? 600_000);
    const send = (m: unknown) => child.connected && child.send(m as never);
    child.on('message', (message: { result?: T; error?: string }) => {
      if (message && typeof message === 'object' && 'result' in message) {
        done = true;
        clearTimeout(timer);
        resolve(message.result as T);
        // Give the child a moment to exit by itself (profiles are written at exit).
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      } else if (message && typeof message === 'object' && 'error' in message) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`scenario ${name}: ${message.error}`));
      } else {
        options.onMessage?.(message, send);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!done) {
        done = true;
        reject(new Error(`scenario ${name} exited (${code ?? signal}) without a result`));
      }
    });
  });
}

/** Entry point of a scenario child: parses params, runs, sends the result, exits. */
export function scenarioMain<P, R>(fn: (params: P) => Promise<R>): void {
  const params = JSON.parse(process.argv[2] ?? '{}') as P;
  fn(params).then(
    (result) => {
      process.send?.({ result });
      // Let the IPC message go out, then exit normally (so --cpu-prof writes its file).
      setTimeout(() => process.exit(0), 50);
    },
    (error) => {
      console.error(error);
      process.send?.({ error: String(error instanceof Error ? error.stack : error) });
      setTimeout(() => process.exit(1), 50);
    },
  );
}

/** Waits for a message from the parent matching `predicate`. */
export function fromParent<T>(predicate: (m: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: T) => {
      if (predicate(m)) {
        process.off('message', on);
        resolve(m);
      }
    };
    process.on('message', on);
  });
}

export const PG_URL = process.env.TASKFLOW_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.TASKFLOW_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS = { host: '127.0.0.1', port: 6379 };

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
