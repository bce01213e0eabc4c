import { extname, join } from 'node:path';
import type { ResolvedWorkers } from '../options/resolve-workers';
import { messages } from '../errors/messages';
import type { AttemptOutcome, AttemptRequest } from './worker-protocol';
import { WORKER_DATA_KEY, WorkerBoot } from './worker-thread';

/** The part of piscina this package uses; piscina's own types stay out of the package's. */
export interface TaskThreadPool {
  run(request: AttemptRequest, options: { transferList: AttemptRequest['port'][]; signal: AbortSignal }): Promise<AttemptOutcome>;
  destroy(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

type PiscinaClass = new (options: Record<string, unknown>) => TaskThreadPool;

/** piscina is an optional peer dependency: loaded only when a worker task is registered. */
function loadPiscina(): PiscinaClass {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, loaded on demand
    return (require('piscina') as { Piscina: PiscinaClass }).Piscina;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new Error(messages.piscinaMissing(), { cause: error });
    throw error;
  }
}

/**
 * A fixed pool of `size` threads: a thread boots the worker module once, so threads are kept
 * (never shrunk while idle) and a destroyed one is replaced at once. One attempt per thread at
 * a time, so a CPU-bound attempt has a core to itself and terminating a thread ends one attempt.
 */
export function createTaskThreadPool(workers: ResolvedWorkers): TaskThreadPool {
  const Piscina = loadPiscina();
  // From TypeScript source (the package's own tests) the entry is a .ts file, which a thread
  // loads only through a require hook; a compiled build loads worker-entry.js directly.
  const fromSource = extname(__filename) === '.ts';
  const boot: WorkerBoot = { file: workers.file, exportName: workers.exportName };
  return new Piscina({
    filename: join(__dirname, `worker-entry${extname(__filename)}`),
    name: 'runAttempt',
    minThreads: workers.size,
    maxThreads: workers.size,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    // Atomics.wait between tasks would freeze the thread's event loop, and with it the Nest context's timers.
    atomics: 'disabled',
    resourceLimits: workers.resourceLimits,
    workerData: { [WORKER_DATA_KEY]: boot },
    // Left unset otherwise, so a thread inherits the process's flags the way Node allows (an explicit list
    // with a V8 flag such as --max-old-space-size would be refused).
    execArgv: fromSource ? ['--require', join(__dirname, 'source-hook.js')] : undefined,
  });
}
