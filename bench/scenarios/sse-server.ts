/**
 * Scenario 5's server: TaskAdminModule (memory only, public stream) serving
 * `GET /tasks/dashboard/stream` (plain and view streams) and the pages' `GET /tasks`.
 * On `{ burst }` it adds `tasks` tasks at once, each making 4 changes (pending, running,
 * one log line, success), and reports its CPU time and RSS from the burst until the
 * parent says every client is done.
 */
import 'reflect-metadata';
import { Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TaskAdminModule, TaskManager } from '../../lib';
import { TaskEventHub } from '../../lib/stream/task-event-hub';
import { MB, RssSampler, fromParent, nowMs, rssMB, scenarioMain, settle, sleep, wallMs } from '../common';
import { Noop } from '../fixtures';

export interface SseServerParams {
  tasks: number;
  clients: number;
}

export interface SseServerResult {
  changes: number;
  events: number;
  coalesced: number;
  drainMs: number;
  /** The synchronous loop of addTask calls alone. */
  loopMs: number;
  /** Longest and p99 event-loop delay during the burst: how long one turn held the loop. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  cpuMs: number;
  wallMs: number;
  rssBeforeMB: number;
  rssPeakMB: number;
  rssAfterMB: number;
}

scenarioMain<SseServerParams, SseServerResult>(async (p) => {
  // Every client connects from 127.0.0.1: the per-address cap must let them all in.
  @Module({ imports: [TaskAdminModule.forRoot({ publicStream: true, maxStreamsPerAddress: Math.max(10, p.clients) })], providers: [Noop] })
  class SseApp {}
  const app = await NestFactory.create(SseApp as Type, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const manager = app.get(TaskManager);
  const noop = app.get(Noop);
  const hub = app.get(TaskEventHub);
  // Warm the path (and JIT) with a few tasks before anyone listens.
  for (let i = 0; i < 200; i++) manager.addTask(noop.logOnce, [i]);
  await manager.drain();
  await sleep(100);
  process.send!({ ready: true, url: `http://127.0.0.1:${port}/tasks/dashboard/stream` });
  await fromParent<{ burst?: boolean }>((m) => m.burst === true);
  while (hub.stats.clients < p.clients) await sleep(5);
  await settle();
  const rssBefore = rssMB();
  // Every 50 ms: each sample reads /proc and holds the loop (at 5 ms it was ~2 % of the burst's profile, counted as lag).
  const sampler = new RssSampler(50);
  const before = hub.stats;
  const cpu0 = process.cpuUsage();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const t0 = nowMs();
  process.send!({ bursting: true, at: wallMs() });
  for (let i = 0; i < p.tasks; i++) manager.addTask(noop.logOnce, [i]);
  const loopMs = nowMs() - t0;
  await manager.drain();
  const drainMs = nowMs() - t0;
  await fromParent<{ seen?: boolean }>((m) => m.seen === true);
  const wall = nowMs() - t0;
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  const peak = sampler.stop();
  const after = hub.stats;
  const result: SseServerResult = {
    changes: after.changes - before.changes,
    events: after.events - before.events,
    coalesced: after.coalesced - before.coalesced,
    drainMs,
    loopMs,
    loopDelayMaxMs: delay.max / 1e6,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: wall,
    rssBeforeMB: rssBefore,
    rssPeakMB: peak,
    rssAfterMB: rssMB(),
  };
  void MB;
  await app.close();
  return result;
});
