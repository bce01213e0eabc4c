import { SendTurns } from '../../lib/stream/send-turns';

/** SendTurns driven turn by turn: `turn()` runs the one scheduled, and answers whether there was one. */
function driven(turnBytes: number, pageBytes: number): { turns: SendTurns; turn: () => boolean } {
  const queue: (() => void)[] = [];
  const turns = new SendTurns(turnBytes, pageBytes, (run) => queue.push(run));
  return { turns, turn: () => (queue.length > 0 ? (queue.shift()!(), true) : false) };
}

describe('SendTurns', () => {
  it('hands out at most the turn budget, a page per client, each client once a turn', () => {
    const { turns, turn } = driven(250, 100);
    const log: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      let pages = 3;
      const send = (budget: number) => {
        log.push(`${name}:${budget}`);
        if (--pages > 0) turns.request(send);
        return budget;
      };
      turns.request(send);
    }
    for (let i = 0; i < 3; i++) {
      expect(turn()).toBe(true);
      // 250 bytes: two full pages, then what is left of the budget; those that ask again wait for the next turn.
      expect(log.splice(0)).toEqual(['a:100', 'b:100', 'c:50']);
    }
    expect(turn()).toBe(false);
  });

  it('serves a client left out for want of budget first in the next turn', () => {
    const { turns, turn } = driven(100, 100);
    const log: string[] = [];
    const sender = (name: string) => (budget: number) => {
      log.push(name);
      return budget;
    };
    const a = sender('a');
    const b = sender('b');
    turns.request(a);
    turns.request(b);
    turn();
    expect(log).toEqual(['a']);
    turns.request(a);
    turn();
    expect(log).toEqual(['a', 'b']);
    turn();
    expect(log).toEqual(['a', 'b', 'a']);
    expect(turn()).toBe(false);
  });

  it('serves a client once however often it asked, and forgets one that cancelled', () => {
    const { turns, turn } = driven(1000, 100);
    let calls = 0;
    const send = () => {
      calls++;
      return 10;
    };
    turns.request(send);
    turns.request(send);
    turn();
    expect(calls).toBe(1);
    turns.request(send);
    turns.cancel(send);
    turn();
    expect(calls).toBe(1);
  });

  it('counts a sender that sent nothing as spending a byte, so that a turn always ends', () => {
    const { turns, turn } = driven(3, 100);
    let calls = 0;
    for (let i = 0; i < 6; i++)
      turns.request(() => {
        calls++;
        return 0;
      });
    turn();
    expect(calls).toBe(3);
  });
});
