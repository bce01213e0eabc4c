// The Registered view's pause and resume buttons (POST {path}/functions/:name/pause|resume),
// offered only to roles that may use them.

import { api, errorMessage } from './api';
import { h } from './dom';
import { permissions } from './permissions';
import { toast } from './toast';
import type { RegisteredTask } from './wire';

/** A Pause (or Resume) button for one function, or null when the role may not; `done` redraws the view. */
export function pauseControl(task: RegisteredTask, done: () => void): HTMLButtonElement | null {
  if (!permissions.operate) return null;
  const action = task.paused ? 'resume' : 'pause';
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-sm',
      title: task.paused ? 'Let its pending tasks start again' : 'Hold its pending and new tasks (running ones finish)',
      onclick: async () => {
        button.disabled = true;
        try {
          await api(`/functions/${encodeURIComponent(task.name)}/${action}`, { method: 'POST' });
          toast(`${task.name} ${task.paused ? 'resumed' : 'paused'}`);
        } catch (error) {
          toast(`Could not ${action} ${task.name}: ${errorMessage(error)}`, 'error');
        }
        done();
      },
    },
    task.paused ? 'Resume' : 'Pause',
  );
  return button;
}
