import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { BACKGROUND_TASK_METADATA, SCHEDULED_TASK_METADATA } from '../constants';
import { ScheduledTaskMetadata } from '../decorators/scheduled-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
import { toScheduleDefinition } from './schedule-definition';
import { TaskScheduler } from './task-scheduler.service';

/**
 * Finds @ScheduledTask methods on singleton providers at startup, validates them
 * (a bad schedule stops the app with a message naming class and method) and hands
 * them to the TaskScheduler. TaskExplorer registers the same methods as background
 * tasks, from the @BackgroundTask metadata that @ScheduledTask stores too.
 */
@Injectable()
export class ScheduleExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly scheduler: TaskScheduler,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
  }

  private explore(wrapper: InstanceWrapper): void {
    if (wrapper.isAlias) return;
    const prototype = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : wrapper.metatype?.prototype;
    if (!prototype || prototype === Object.prototype) return;
    const className = wrapper.instance?.constructor?.name ?? wrapper.metatype?.name ?? String(wrapper.name);
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const metadata = this.reflector.get<ScheduledTaskMetadata | undefined>(SCHEDULED_TASK_METADATA, method);
      if (!metadata) continue;
      const location = `${className}.${methodName}`;
      // @BackgroundTask applied before (below) or after (above) @ScheduledTask.
      const background = this.reflector.get<unknown>(BACKGROUND_TASK_METADATA, method);
      if (metadata.alsoBackgroundTask || background !== metadata.background) {
        throw new TaskDefinitionError(messages.scheduleWithBackgroundTask(location));
      }
      if (!wrapper.isDependencyTreeStatic()) throw new TaskDefinitionError(messages.scheduleRequestScoped(location));
      if (!wrapper.instance) continue;
      this.scheduler.add(toScheduleDefinition(metadata.options, location));
    }
  }
}
