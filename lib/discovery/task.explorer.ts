import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { BACKGROUND_TASK_METADATA } from '../constants';
import { BackgroundTaskOptions } from '../decorators/background-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
import { decoratedMethods } from './decorated-methods';
import { toTaskDefinition } from './task-definition';
import { TaskRegistry } from './task.registry';

/** Finds @BackgroundTask methods on singleton providers at startup (as nestjs/schedule does). */
@Injectable()
export class TaskExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: TaskRegistry,
  ) {}

  onModuleInit(): void {
    for (const { wrapper, location, method, metadata } of decoratedMethods<BackgroundTaskOptions>(
      this.discovery,
      this.scanner,
      this.reflector,
      BACKGROUND_TASK_METADATA,
    )) {
      if (!wrapper.isDependencyTreeStatic()) throw new TaskDefinitionError(messages.requestScoped(location));
      if (!wrapper.instance) continue;
      this.registry.register({ definition: toTaskDefinition(metadata, location), location, instance: wrapper.instance, method });
    }
  }
}
