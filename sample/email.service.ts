import { Inject, Injectable, Optional } from '@nestjs/common';
import { BackgroundTask, getTaskContext, taskLog } from '../lib';

/** Probability (0..1) that one delivery attempt hits a simulated SMTP hiccup. */
export const EMAIL_FAILURE_RATE = Symbol('EMAIL_FAILURE_RATE');

/** Default: env SAMPLE_EMAIL_FAILURE_RATE, else 0.3. */
export function emailFailureRateFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SAMPLE_EMAIL_FAILURE_RATE;
  const rate = raw === undefined || raw === '' ? 0.3 : Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`SAMPLE_EMAIL_FAILURE_RATE must be a number between 0 and 1, got "${raw}"`);
  }
  return rate;
}

/** What an SMTP server says when it is briefly unavailable. */
export class SmtpTransientError extends Error {
  override readonly name = 'SmtpTransientError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code} ${message}`);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

@Injectable()
export class EmailService {
  constructor(@Optional() @Inject(EMAIL_FAILURE_RATE) private readonly failureRate: number = emailFailureRateFromEnv()) {}

  /** Sends a welcome email; about one attempt in three hits a transient SMTP error and is retried. */
  @BackgroundTask({ retries: 3, delay: 1, backoff: 2 })
  async sendEmail(address: string): Promise<void> {
    const attempt = getTaskContext()?.attempt ?? 1;
    taskLog(`Connecting to smtp.example.test:587 (attempt ${attempt})`);
    await sleep(150 + Math.random() * 350, getTaskContext()?.signal);
    if (Math.random() < this.failureRate) {
      taskLog('SMTP server answered 421, will retry', { level: 'warning', address });
      throw new SmtpTransientError(421, '4.7.0 Try again later, closing connection');
    }
    taskLog(`Sending welcome email to ${address}`);
    await sleep(100 + Math.random() * 200, getTaskContext()?.signal);
    taskLog(`250 2.0.0 OK: queued as ${Math.random().toString(36).slice(2, 12).toUpperCase()}`);
  }
}
