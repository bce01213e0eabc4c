import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { BACKGROUND_TASK_METADATA } from '../constants';
import { BackgroundTaskOptions } from '../decorators/background-task.decorator';
import { TaskDefinitionError } from '../errors/task-definition.error';
import { messages } from '../errors/messages';
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
    for (const wrapper of this.discovery.getProviders()) this.explore(wrapper);
  }

  private explore(wrapper: InstanceWrapper): void {
    // Aliases (useExisting) point at a provider that is explored on its own.
    if (wrapper.isAlias) return;
    const prototype = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : wrapper.metatype?.prototype;
    if (!prototype || prototype === Object.prototype) return;
    const className = wrapper.instance?.constructor?.name ?? wrapper.metatype?.name ?? String(wrapper.name);
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const options = this.reflector.get<BackgroundTaskOptions | undefined>(BACKGROUND_TASK_METADATA, method);
      if (!options) continue;
      const location = `${className}.${methodName}`;
      if (!wrapper.isDependencyTreeStatic()) throw new TaskDefinitionError(messages.requestScoped(location));
      if (!wrapper.instance) continue;
      this.registry.register({
        definition: toTaskDefinition(options, location),
        location,
        instance: wrapper.instance,
        method,
      });
    }
  }
}
