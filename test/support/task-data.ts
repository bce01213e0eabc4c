import { randomUUID } from 'node:crypto';
import { TaskData } from '../../lib';

/** A task record as the engine stores it: pending, empty, version 1; override what a test needs. */
export function blankTask(overrides: Partial<TaskData> = {}): TaskData {
  return {
    id: randomUUID(),
    funcName: 'Test.task',
    status: 'pending',
    createdAt: Date.now(),
    startTime: null,
    endTime: null,
    retriesUsed: 0,
    error: null,
    stacktrace: null,
    logs: [],
    tags: {},
    source: 'manual',
    priority: null,
    progress: null,
    args: [],
    argsCipher: null,
    idempotencyKey: null,
    durable: false,
    owner: null,
    version: 1,
    ...overrides,
  };
}
