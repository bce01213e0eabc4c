import { Injectable } from '@nestjs/common';
import { InstanceState } from '../storage/instance-state';
import { TaskInstance } from '../task/task-instance';
import { TaskRuntime } from './task-runtime';
import { TaskStorage } from './task-storage';

/**
 * The instances sharing the database (`GET {path}/instances`): alive ones first, then
 * the oldest start first. Without a database there is no list (records carry no
 * instance either). While the database cannot be reached, this instance alone, from memory.
 */
@Injectable()
export class TaskInstances {
  private readonly startedAt = Date.now();

  constructor(
    private readonly storage: TaskStorage,
    private readonly runtime: TaskRuntime,
  ) {}

  async list(): Promise<TaskInstance[]> {
    if (!this.storage.persistent) return [];
    let states: InstanceState[];
    try {
      states = await this.storage.describeInstances();
    } catch {
      states = [this.ownState()];
    }
    return states.sort(byLiveness).map(present);
  }

  private ownState(): InstanceState {
    const unfinished = this.runtime.unfinishedTasks();
    const running = unfinished.filter((t) => t.status === 'running').length;
    return {
      id: this.storage.instanceId,
      leaseUntil: 0,
      startedAt: this.startedAt,
      lastHeartbeat: null,
      alive: this.runtime.handoff.fence.open,
      running,
      pending: unfinished.length - running,
    };
  }
}

function byLiveness(a: InstanceState, b: InstanceState): number {
  if (a.alive !== b.alive) return a.alive ? -1 : 1;
  const sa = a.startedAt ?? Infinity;
  const sb = b.startedAt ?? Infinity;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The id is `host/pid/random[/scope]`: host and pid are read from it. */
function present(state: InstanceState): TaskInstance {
  const [host = '', pid = ''] = state.id.split('/');
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    instance_id: state.id,
    host,
    pid: /^\d{1,10}$/.test(pid) ? Number(pid) : null,
    started_at: iso(state.startedAt),
    last_heartbeat: iso(state.lastHeartbeat),
    alive: state.alive,
    running: state.running,
    pending: state.pending,
  };
}
