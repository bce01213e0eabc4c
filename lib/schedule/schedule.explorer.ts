import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { BACKGROUND_TASK_METADATA, SCHEDULED_TASK_METADATA } from '../constants';
import { ScheduledTaskMetadata } from '../decorators/scheduled-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
import { decoratedMethods } from '../discovery/decorated-methods';
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
    for (const { wrapper, location, method, metadata } of decoratedMethods<ScheduledTaskMetadata>(
      this.discovery,
      this.scanner,
      this.reflector,
      SCHEDULED_TASK_METADATA,
    )) {
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
