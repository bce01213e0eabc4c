import { HttpCode, Injectable, NotFoundException, Param, Post, UseFilters } from '@nestjs/common';
import { TaskActorOptions } from '../auth/task-actor.decorator';
import { TaskRequiredRole } from '../auth/task-role.decorator';
import type { ActorOptions } from '../engine/add-task-options';
import { PauseState, TaskManager } from '../engine/task-manager.service';
import { UnknownTaskError } from '../errors/unknown-task.error';
import { httpMessages } from '../web/http-messages';
import { TaskflowExceptionFilter } from '../web/taskflow-exception.filter';

/**
 * `POST {path}/functions/:func_name/pause` and `/resume`: operator actions on a registered
 * function (a name with `/` in it is sent encoded, `%2F`). An unknown name answers 404.
 * The `@Controller(path)` is applied per module instance by createAdminControllers.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class FunctionsController {
  constructor(protected readonly manager: TaskManager) {}

  @Post('functions/:func_name/pause')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  pause(@Param('func_name') name: string, @TaskActorOptions() actor: ActorOptions): Promise<PauseState> {
    return this.registered(() => this.manager.pause(String(name), actor), name);
  }

  @Post('functions/:func_name/resume')
  @TaskRequiredRole('operator')
  @HttpCode(200)
  resume(@Param('func_name') name: string, @TaskActorOptions() actor: ActorOptions): Promise<PauseState> {
    return this.registered(() => this.manager.resume(String(name), actor), name);
  }

  private async registered(action: () => Promise<PauseState>, name: unknown): Promise<PauseState> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof UnknownTaskError) throw new NotFoundException(httpMessages.functionNotFound(String(name)));
      throw error;
    }
  }
}
