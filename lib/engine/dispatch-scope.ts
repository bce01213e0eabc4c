import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Holds tasks added while an HTTP request is being handled, and releases them
 * once its response has been sent (TaskflowInterceptor opens and closes it).
 */
export class DispatchScope {
  private static readonly storage = new AsyncLocalStorage<DispatchScope>();
  /** Until a scope first runs (most apps: never, without autoInstall), no lookup per task. */
  private static opened = false;
  private pending: (() => void)[] = [];
  private released = false;

  static current(): DispatchScope | undefined {
    if (!DispatchScope.opened) return undefined;
    const scope = DispatchScope.storage.getStore();
    return scope && !scope.released ? scope : undefined;
  }

  run<T>(fn: () => T): T {
    DispatchScope.opened = true;
    return DispatchScope.storage.run(this, fn);
  }

  defer(start: () => void): void {
    if (this.released) start();
    else this.pending.push(start);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const starts = this.pending;
    this.pending = [];
    for (const start of starts) start();
  }
}
