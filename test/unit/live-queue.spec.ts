import { KeyedQueue, LiveQueue, SharedQueue } from '../../lib/stream/live-queue';
import { NewestFrames } from '../../lib/stream/newest-frames';
import { SseFrame, batchFrame, commentFrame, namedFrame, taskFrame } from '../../lib/stream/sse-frame';

/** Everything waiting, by id (or comment), as a client behind would be sent it. */
function drain(queue: LiveQueue, budget = Infinity): string[] {
  const out: string[] = [];
  queue.send(
    budget,
    (frame) => out.push(String(frame.message?.id ?? frame.message?.comment)),
    () => false,
  );
  return out;
}

/** The hub's side: frames numbered in flushes, each flush one batch to every plain stream. */
function hub(): { flush: (...changes: [string, boolean?][]) => SseFrame; newest: NewestFrames } {
  const newest = new NewestFrames();
  let id = 0;
  const flush = (...changes: [string, boolean?][]) => {
    const frames = changes.map(([task, last]) => {
      const frame = taskFrame(++id, task, JSON.stringify({ task_id: task }));
      newest.sent(task, frame, last ?? false);
      return frame;
    });
    return batchFrame(frames);
  };
  return { flush, newest };
}

describe('live queues', () => {
  it('SharedQueue: a client behind skips a state a newer one of its task follows, ids increasing', () => {
    const { flush } = hub();
    const queue = new SharedQueue();
    queue.add(flush(['a'], ['b'], ['c']));
    queue.add(flush(['b'], ['d']));
    queue.add(flush(['a', true]));
    expect(drain(queue)).toEqual(['3', '4', '5', '6']);
    expect(queue.empty).toBe(true);
    expect(queue.bytes).toBe(0);
  });

  it('SharedQueue sends the same events as a queue keyed by task', () => {
    const { flush } = hub();
    const shared = new SharedQueue();
    const keyed = new KeyedQueue();
    for (const batch of [flush(['a'], ['b']), flush(['c'], ['a']), flush(['b', true], ['d']), flush(['c', true])]) {
      shared.add(batch);
      keyed.add(batch);
    }
    expect(drain(shared)).toEqual(drain(keyed));
  });

  it('SharedQueue sends a page at a time and goes on where it stopped', () => {
    const { flush } = hub();
    const queue = new SharedQueue();
    const batch = flush(['a'], ['b'], ['c'], ['d']);
    queue.add(batch);
    const size = batch.parts![0].size;
    expect(drain(queue, size * 2)).toEqual(['1', '2']);
    queue.add(flush(['c']));
    expect(drain(queue, size * 2)).toEqual(['4', '5']);
    expect(queue.empty).toBe(true);
  });

  it('SharedQueue: a client that connected after a state was sent still gets the newer one, and compaction drops only replaced states', () => {
    const { flush } = hub();
    const early = new SharedQueue();
    early.add(flush(['a'], ['b']));
    const late = new SharedQueue();
    const second = flush(['a'], ['c']);
    early.add(second);
    late.add(second);
    const before = early.bytes;
    expect(early.compact()).toBeLessThan(before);
    expect(drain(early)).toEqual(['2', '3', '4']);
    expect(drain(late)).toEqual(['3', '4']);
  });

  it('SharedQueue leaves out comments and keeps named events, the newest of each name', () => {
    const newest = new NewestFrames();
    const queue = new SharedQueue();
    const first = namedFrame('metrics', '{}', 1);
    newest.sent('metrics', first, false);
    queue.add(first);
    queue.add(commentFrame('keep-alive'));
    const second = namedFrame('metrics', '{"total":1}', 1);
    newest.sent('metrics', second, false);
    queue.add(second);
    const out: SseFrame[] = [];
    queue.send(
      Infinity,
      (frame) => out.push(frame),
      () => false,
    );
    expect(out).toEqual([second]);
  });

  it('NewestFrames lets a task go with its last event', () => {
    const newest = new NewestFrames();
    const done = taskFrame(1, 'a', '{}');
    newest.sent('a', done, true);
    const next = taskFrame(2, 'a', '{}');
    newest.sent('a', next, false);
    expect(done.replaced).toBeUndefined();
  });

  it('stops when told to', () => {
    const { flush } = hub();
    const queue = new SharedQueue();
    queue.add(flush(['a'], ['b']));
    let calls = 0;
    queue.send(
      Infinity,
      () => calls++,
      () => calls >= 1,
    );
    expect(calls).toBe(1);
    expect(drain(queue)).toEqual(['2']);
  });
});
