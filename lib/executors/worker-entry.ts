import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskRegistry } from '../discovery/task.registry';
import { AttemptContext, AttemptSink, callInTaskContext } from '../engine/task-context';
import { messages } from '../errors/messages';
import { cloneProblem } from './structured-clone-check';
import { AbortMessage, AttemptOutcome, AttemptRequest, WorkerMessage, fromCrossingError, toCrossingError } from './worker-protocol';
import { WorkerBoot, workerBoot } from './worker-thread';

/*
 * The file each pool thread loads. It boots the worker module as a Nest application context
 * once per thread, as soon as the thread starts (so the first attempt does not pay for it),
 * and runs each attempt on the provider instance of that context.
 */

let booted: Promise<INestApplicationContext> | null = null;

function boot(target: WorkerBoot): Promise<INestApplicationContext> {
  booted ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is named at run time
    const exported = (require(target.file) as Record<string, unknown>)[target.exportName];
    if (typeof exported !== 'function') throw new Error(`${target.file} has no export "${target.exportName}" that is a Nest module class`);
    return NestFactory.createApplicationContext(exported as Type, { logger: ['error', 'warn'], abortOnError: false });
  })();
  return booted;
}

const target = workerBoot();
if (target) {
  // A boot failure is reported by every attempt on this thread, not as an unhandled rejection.
  boot(target).catch(() => undefined);
}

/** The pool's handler: one attempt, its outcome as data (a task's own error is not a crash). */
export async function runAttempt(request: AttemptRequest): Promise<AttemptOutcome> {
  const { port } = request;
  const context = new AttemptContext(request.taskId, request.funcName, request.attempt, request.tags);
  port.on('message', (message: AbortMessage) => {
    if (message.type === 'abort') context.abort(fromCrossingError(message.reason));
  });
  try {
    if (!target) throw new Error('runAttempt runs only on a task worker thread');
    const app = await boot(target);
    const registered = app.get(TaskRegistry, { strict: false }).find(request.funcName);
    if (!registered)
      throw new Error(`${request.funcName} is not a @BackgroundTask of ${target.exportName} (${target.file}), the module of the worker threads`);
    const value = await callInTaskContext(context, sinkOn(port), registered.method, registered.instance, request.args);
    const problem = cloneProblem(value, 'result');
    if (problem) throw new TypeError(messages.resultCannotCross(request.funcName, problem));
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toCrossingError(error) };
  } finally {
    port.close();
  }
}

function sinkOn(port: AttemptRequest['port']): AttemptSink {
  const post = (message: WorkerMessage) => port.postMessage(message);
  return {
    log: (level, message, extra) => {
      try {
        post({ type: 'log', level, message, extra });
      } catch {
        // Extra fields that cannot be cloned (a function, say) are dropped; the line itself is kept.
        post({ type: 'log', level, message, extra: {} });
      }
    },
    progress: (fraction, message) => post({ type: 'progress', fraction, message }),
  };
}
