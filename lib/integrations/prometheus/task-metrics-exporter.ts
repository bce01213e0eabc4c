import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { TASKFLOW_OPTIONS } from '../../constants';
import { TaskManager } from '../../engine/task-manager.service';
import { TaskRuntime } from '../../engine/task-runtime';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import type { TaskData } from '../../task/task-record';
import { isTerminal } from '../../task/task-status';
import { requireOptionalPeer } from '../optional-peer';

type PromClient = typeof import('prom-client');

/** Buckets (s) from a quick job to a long import; prom-client's defaults stop at 10 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Prometheus metrics of the tasks, when the `prometheus` option is set. Fed by the
 * engine's change stream: with the option off nothing subscribes, so the engine does
 * no extra work per change. Pending and running are counted when scraped.
 */
@Injectable()
export class TaskMetricsExporter implements OnModuleInit, OnApplicationShutdown {
  private subscription: Subscription | null = null;
  private registered: { registry: Registry; names: string[] } | null = null;
  /** Finished tasks already counted: a terminal task may be announced again (a late log line), and is one object. */
  private readonly counted = new WeakSet<TaskData>();

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    private readonly manager: TaskManager,
    private readonly runtime: TaskRuntime,
  ) {}

  onModuleInit(): void {
    const settings = this.options.prometheus;
    if (!settings) return;
    const prom = requireOptionalPeer<PromClient>('prom-client', 'The `prometheus` option');
    const registry = (settings.registry as Registry | null) ?? prom.register;
    const name = (suffix: string) => `${settings.prefix}${suffix}`;
    const registers = [registry];
    const finished: Counter<'func_name' | 'status'> = new prom.Counter({
      name: name('tasks_finished_total'),
      help: 'Tasks that reached a terminal status, by function and status.',
      labelNames: ['func_name', 'status'],
      registers,
    });
    const duration: Histogram<'func_name' | 'status'> = new prom.Histogram({
      name: name('task_duration_seconds'),
      help: 'Run time of finished tasks, from start to end (all attempts), by function and status.',
      labelNames: ['func_name', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const live = (status: 'pending' | 'running') => () => this.runtime.unfinishedTasks().filter((task) => task.status === status).length;
    const gauge = (suffix: string, help: string, count: () => number): Gauge =>
      new prom.Gauge({
        name: name(suffix),
        help,
        registers,
        collect() {
          this.set(count());
        },
      });
    gauge('tasks_pending', 'Tasks of this instance waiting to start.', live('pending'));
    gauge('tasks_running', 'Tasks of this instance running now.', live('running'));
    this.registered = {
      registry,
      names: ['tasks_finished_total', 'task_duration_seconds', 'tasks_pending', 'tasks_running'].map(name),
    };
    this.subscription = this.manager.taskChanges$.subscribe((task) => {
      if (!isTerminal(task.status) || this.counted.has(task)) return;
      this.counted.add(task);
      finished.inc({ func_name: task.funcName, status: task.status });
      if (task.startTime !== null && task.endTime !== null) {
        duration.observe({ func_name: task.funcName, status: task.status }, (task.endTime - task.startTime) / 1000);
      }
    });
  }

  /** Unregisters, so another app in the same process (tests, a restart in place) can register again. */
  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.registered) for (const metric of this.registered.names) this.registered.registry.removeSingleMetric(metric);
    this.registered = null;
  }
}
