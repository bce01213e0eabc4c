import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor, Optional } from '@nestjs/common';
import { Observable } from 'rxjs';
import { TASKFLOW_OPTIONS } from '../constants';
import type { ResolvedTaskOptions } from '../options/resolve-options';
import { DispatchScope } from './dispatch-scope';

interface ResponseLike {
  once(event: string, listener: () => void): unknown;
  writableFinished?: boolean;
  destroyed?: boolean;
}

/**
 * Tasks added while the request is handled (unless eager) start only after the
 * response has been sent, so background work never delays or competes with it.
 * Use with `@UseInterceptors(TaskflowInterceptor)`, or `autoInstall: true` for every route.
 */
@Injectable()
export class TaskflowInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || DispatchScope.current()) return next.handle();
    const response = context.switchToHttp().getResponse<{ raw?: ResponseLike } & ResponseLike>();
    const raw: ResponseLike | undefined = response?.raw ?? response;
    if (!raw || typeof raw.once !== 'function' || raw.writableFinished || raw.destroyed) return next.handle();
    const scope = new DispatchScope();
    const release = () => scope.release();
    raw.once('finish', release);
    raw.once('close', release);
    return new Observable((subscriber) => scope.run(() => next.handle().subscribe(subscriber)));
  }
}

/** The global interceptor of `autoInstall`: passes through unless the option is on. */
@Injectable()
export class AutoInstallInterceptor extends TaskflowInterceptor {
  constructor(@Optional() @Inject(TASKFLOW_OPTIONS) private readonly options?: ResolvedTaskOptions) {
    super();
  }

  override intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return this.options?.autoInstall ? super.intercept(context, next) : next.handle();
  }
}
