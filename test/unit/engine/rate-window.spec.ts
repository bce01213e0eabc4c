import { RateWindow } from '../../../lib/engine/rate-window';
import { WakeTimer } from '../../../lib/engine/wake-timer';

describe('RateWindow', () => {
  it('allows max starts, then the next one when the oldest is a window old', () => {
    const window = new RateWindow(3, 1000);
    for (const t of [0, 10, 20]) {
      expect(window.nextAllowed(t)).toBe(t);
      window.record(t);
    }
    expect(window.nextAllowed(500)).toBe(1000);
    expect(window.allowance(999)).toBe(0);
    expect(window.allowance(1000)).toBe(1);
    window.record(1000);
    expect(window.nextAllowed(1000)).toBe(1010);
    expect(window.allowance(1020)).toBe(2);
    // A start leaves the window exactly one window later.
    expect(window.idle(1999)).toBe(false);
    expect(window.idle(2000)).toBe(true);
  });
});

describe('RateWindow when the clock steps back', () => {
  it('counts an earlier start as the latest one, so the window never reopens early', () => {
    const window = new RateWindow(2, 1000);
    window.record(1000);
    window.record(400);
    expect(window.nextAllowed(1500)).toBe(2000);
    expect(window.allowance(1999)).toBe(0);
  });
});

describe('WakeTimer (fake timers)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('wakes every key due in one call, keeps the earliest time asked per key, and one timer only', () => {
    const woken: string[][] = [];
    const timer = new WakeTimer((keys) => woken.push(keys));
    timer.schedule('a', 100);
    timer.schedule('b', 100);
    timer.schedule('c', 300);
    timer.schedule('c', 200);
    timer.schedule('a', 250);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(99);
    expect(woken).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(woken).toEqual([['a', 'b']]);
    jest.advanceTimersByTime(100);
    expect(woken).toEqual([['a', 'b'], ['c']]);
    // c's later request (300) was superseded by its earlier one: nothing more is due.
    jest.advanceTimersByTime(1000);
    expect(woken).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stops', () => {
    const woken: string[][] = [];
    const timer = new WakeTimer((keys) => woken.push(keys));
    timer.schedule('a', 100);
    timer.stop();
    jest.advanceTimersByTime(200);
    expect(woken).toEqual([]);
  });
});
