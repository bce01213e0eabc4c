import { Injectable } from '@nestjs/common';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
import { RegisteredTask } from './registered-task';

/** Any function at all: methods are looked up by identity, never called through this type. */
type AnyFunction = (...args: never[]) => unknown;

/** Every @BackgroundTask of the application, by name and by method. */
@Injectable()
export class TaskRegistry {
  private readonly byName = new Map<string, RegisteredTask>();
  private readonly byMethod = new Map<AnyFunction, RegisteredTask>();

  register(task: RegisteredTask): void {
    const name = task.definition.name;
    const existing = this.byName.get(name);
    if (existing) throw new TaskDefinitionError(messages.duplicateTaskName(name, existing.location, task.location));
    this.byName.set(name, task);
    this.byMethod.set(task.method, task);
  }

  /** By registered name or by the decorated method itself (`this.svc.method`). */
  find(fnOrName: AnyFunction | string): RegisteredTask | undefined {
    return typeof fnOrName === 'string' ? this.byName.get(fnOrName) : this.byMethod.get(fnOrName);
  }

  all(): RegisteredTask[] {
    return [...this.byName.values()];
  }
}
