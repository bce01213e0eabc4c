import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
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
