import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { BackgroundTask, getTaskContext, reportProgress, taskLog } from '../lib';

/** Hash rounds between two progress reports (and two looks at the signal). */
const CHUNK = 50_000;

/** Tells the digest task how hard to work; injected, to show that constructor DI works in a worker thread. */
@Injectable()
export class DigestSettings {
  readonly algorithm = 'sha256';
}

/**
 * A CPU-bound task: it would block every request of the app for its whole run on the event
 * loop, so it runs on a worker thread (`executor: 'worker'`) of the pool set by `workers`.
 */
@Injectable()
export class DigestService {
  constructor(private readonly settings: DigestSettings) {}

  @BackgroundTask({ executor: 'worker', timeout: 120 })
  async digest(seed: string, rounds: number): Promise<string> {
    const signal = getTaskContext()?.signal;
    taskLog(`Hashing "${seed}" ${rounds} times with ${this.settings.algorithm} on worker thread ${threadId}`);
    let digest = Buffer.from(seed);
    for (let done = 0; done < rounds;) {
      const end = Math.min(rounds, done + CHUNK);
      for (; done < end; done++) digest = createHash(this.settings.algorithm).update(digest).digest();
      reportProgress(done / rounds);
      // A moment off the CPU lets the thread receive a cancel; one that never yields is terminated 2 s after it.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        taskLog(`Cancelled after ${done} rounds`, { level: 'warning' });
        return '';
      }
    }
    const hex = digest.toString('hex');
    taskLog(`Digest: ${hex}`);
    return hex;
  }
}
