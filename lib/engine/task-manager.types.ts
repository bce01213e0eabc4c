import type { AnyMethod } from './task-intake';

/** The rest of addTask's arguments: the method's own parameters, or any arguments after a registered name
 * (`[F]`, so neither `never` nor a union is split into cases). */
export type TaskCallArguments<F, O> = [F] extends [AnyMethod]
  ? Parameters<F> extends []
    ? [args?: [], options?: O]
    : [args: Parameters<F>, options?: O]
  : [args?: unknown[], options?: O];

/** What registeredTasks() shows of each @BackgroundTask. */
export interface RegisteredTaskInfo {
  name: string;
  /** Its tasks stay pending until resume() (see TaskManager.pause). */
  paused: boolean;
  options: Record<string, unknown>;
}

/** What pause() and resume() answer (and `POST {path}/functions/:func_name/pause|resume`). */
export interface PauseState {
  func_name: string;
  paused: boolean;
}
