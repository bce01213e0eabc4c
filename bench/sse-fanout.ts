/**
 * SSE fan-out measurement (not a test). Build and run:
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/taskflow-bench && node /tmp/taskflow-bench/bench/sse-fanout.js [clients] [tasks]
 *
 * 1. Bytes per task-change event: one client, tasks run one after another.
 * 2. Fan-out: `clients` SSE connections (in a child process, so the server's RSS
 *    is its own) while `tasks` tasks are added at once; each task makes 4 changes
 *    (pending, running, a log line, success). Reports events delivered per client,
 *    changes coalesced by the hub, server RSS and the time until every client saw
 *    every task finish.
 * 3. The same clients while 100 tasks log 97 lines each (10,000 changes of few tasks).
 */
import { fork } from 'node:child_process';
import 'reflect-metadata';
import { TaskEventHub } from '../lib/stream/task-event-hub';
import { HttpApp, createHttpApp } from '../test/support/http-app';
import { SseReader } from '../test/support/http-sse';

interface ClientReport {
  events: number[];
  bytes: number[];
  metrics: number[];
  ms: number;
}

async function clientsMode(url: string, count: number, tasks: number): Promise<void> {
  const readers = await Promise.all(Array.from({ length: count }, () => SseReader.open(url)));
  process.send!({ ready: true });
  const started = Date.now();
  await Promise.all(
    readers.map(async (reader) => {
      const done = new Set<string>();
      while (done.size < tasks) {
        const event = await reader.waitFor((e) => e.data !== undefined && e.event === undefined, 120_000);
        const record = JSON.parse(event.data!) as { task_id: string; status: string };
        if (record.status === 'success') done.add(record.task_id);
      }
    }),
  );
  const report: ClientReport = {
    events: readers.map((r) => r.events.filter((e) => e.data !== undefined && e.event === undefined).length),
    bytes: readers.map((r) => r.bytes),
    metrics: readers.map((r) => r.events.filter((e) => e.event === 'metrics').length),
    ms: Date.now() - started,
  };
  readers.forEach((r) => r.close());
  process.send!({ report });
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const stats = (list: number[]) => `min ${Math.min(...list)} / max ${Math.max(...list)} / avg ${(list.reduce((a, b) => a + b, 0) / list.length).toFixed(1)}`;

async function bytesPerEvent(): Promise<void> {
  const h = await createHttpApp({}, {});
  try {
    const reader = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
    const n = 200;
    for (let i = 0; i < n; i++) await h.manager.waitFor(h.manager.addTask('Jobs.ok', [`user${i}@example.com`], { tags: { source: 'signup' } }));
    const last = (await h.manager.listTasks({ limit: 1 })).items[0].task_id;
    await reader.waitFor((e) => e.data !== undefined && e.event === undefined && JSON.parse(e.data).task_id === last && JSON.parse(e.data).status === 'success');
    const taskEvents = reader.events.filter((e) => e.data !== undefined && e.event === undefined);
    const sizes = taskEvents.map((e) => Buffer.byteLength(`id: ${e.id}\ndata: ${e.data}\n\n`));
    const hub = h.app.get(TaskEventHub).stats;
    console.log(`1) bytes per task-change event (typical record: 1 log line, 1 tag, no args):`);
    console.log(`   ${taskEvents.length} events for ${n} tasks (${hub.changes} changes, ${hub.coalesced} coalesced); ` +
      `bytes/event ${stats(sizes)}; stream total ${reader.bytes} B incl. metrics/keep-alive`);
    reader.close();
  } finally {
    await h.close();
  }
}

async function fanOut(clients: number, tasks: number, label: string, produce: (h: HttpApp) => void): Promise<void> {
  const h = await createHttpApp({}, {});
  const hub = h.app.get(TaskEventHub);
  const url = `${h.url}/tasks/dashboard/stream`;
  const child = fork(__filename, ['clients', url, String(clients), String(tasks)], { stdio: 'inherit' });
  const messages: { ready?: boolean; report?: ClientReport }[] = [];
  let wake: () => void = () => undefined;
  child.on('message', (m: { ready?: boolean; report?: ClientReport }) => {
    messages.push(m);
    wake();
  });
  const next = async () => {
    while (messages.length === 0) await new Promise<void>((r) => (wake = r));
    return messages.shift()!;
  };
  await next();
  while (hub.stats.clients < clients) await new Promise((r) => setImmediate(r));
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
  const before = { ...hub.stats };
  const started = Date.now();
  produce(h);
  await h.manager.drain();
  const serverMs = Date.now() - started;
  const { report } = await next();
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const after = hub.stats;
  const changes = after.changes - before.changes;
  console.log(`${label}: ${clients} clients, ${tasks} tasks, ${changes} task changes`);
  console.log(`   hub: ${after.events - before.events} events numbered, ${after.coalesced - before.coalesced} changes coalesced`);
  console.log(`   per client: task events ${stats(report!.events)}; bytes ${stats(report!.bytes)}; metrics events ${stats(report!.metrics)}`);
  console.log(`   tasks drained in ${serverMs} ms; every client saw every task succeed after ${report!.ms} ms`);
  console.log(`   server RSS: before ${mb(rssBefore)}, peak ${mb(rssPeak)} (+${mb(rssPeak - rssBefore)})`);
  child.kill();
  await h.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === 'clients') return clientsMode(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
  const clients = Number(process.argv[2] ?? 100);
  const tasks = Number(process.argv[3] ?? 2500);
  await bytesPerEvent();
  await fanOut(clients, tasks, '2) burst of distinct tasks, added at once (pending, running, log, success each)', (h) => {
    for (let i = 0; i < tasks; i++) h.manager.addTask('Jobs.ok', [`user${i}@example.com`], { tags: { source: 'burst' } });
  });
  await fanOut(clients, 100, '3) burst of repeated changes: 100 tasks logging 97 lines each', (h) => {
    for (let i = 0; i < 100; i++) h.manager.addTask('Jobs.chatty', [97]);
  });
}

main().then(
  () => process.argv[2] !== 'clients' && process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
