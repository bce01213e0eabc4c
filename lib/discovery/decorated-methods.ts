import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';

/** A provider method carrying a decorator's metadata. */
export interface DecoratedMethod<T> {
  wrapper: InstanceWrapper;
  /** `ClassName.methodName`, for messages. */
  location: string;
  method: (...args: unknown[]) => unknown;
  metadata: T;
}

/**
 * Every provider method with `metadataKey` (as nestjs/schedule's explorer walks
 * them). Aliases (`useExisting`) are skipped: their target is walked on its own.
 * Factory-made providers are named by their instance's class.
 */
export function* decoratedMethods<T>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  metadataKey: string,
): Generator<DecoratedMethod<T>> {
  for (const wrapper of discovery.getProviders()) {
    if (wrapper.isAlias) continue;
    const prototype = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : wrapper.metatype?.prototype;
    if (!prototype || prototype === Object.prototype) continue;
    const className = wrapper.instance?.constructor?.name ?? wrapper.metatype?.name ?? String(wrapper.name);
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      const metadata = reflector.get<T | undefined>(metadataKey, method);
      if (metadata) yield { wrapper, location: `${className}.${methodName}`, method, metadata };
    }
  }
}
