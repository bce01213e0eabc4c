import { NotFoundException } from '@nestjs/common';

/**
 * Thrown where a path reached a route by its shape only (a fixed name such as
 * `metrics` taken as `:task_id`). TaskflowExceptionFilter answers it as Nest
 * answers a path no route matches, `Cannot <METHOD> <path>`, which needs the
 * request that pipes do not see.
 */
export class RouteNotFoundException extends NotFoundException {
  constructor() {
    super('Not Found');
  }
}
