/** A client's sender: hands Nest at most `budget` bytes of its waiting events and answers how many it did. */
export type Sender = (budget: number) => number;

/**
 * The turns of the event loop in which the streams' waiting events are handed to Nest,
 * shared by every client of a hub. Nest's per-event work under `@Sse()` is what a burst
 * costs (a few µs per event per client), so with every client sending a full page in
 * the same turn, one turn held the loop for hundreds of milliseconds: a dashboard's
 * REST read, a timer and the engine itself waited behind it. Here a turn hands Nest
 * at most `turnBytes` in all, a page per client in the order they asked, and the
 * clients left go first next turn; so the loop comes back every few milliseconds and
 * what a client waits for is the burst's bytes ahead of it, not the length of a turn.
 */
export class SendTurns {
  /** In the order the clients asked; a client that asks again goes to the end. */
  private readonly waiting = new Set<Sender>();
  private scheduled = false;

  /** @param schedule runs a turn: the check phase of the event loop (tests pass their own) */
  constructor(
    private readonly turnBytes: number,
    private readonly pageBytes: number,
    private readonly schedule: (turn: () => void) => void = (turn) => setImmediate(turn),
  ) {}

  /** `sender` gets a page in a coming turn (this one's check phase, or the next). */
  request(sender: Sender): void {
    this.waiting.add(sender);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.run());
  }

  cancel(sender: Sender): void {
    this.waiting.delete(sender);
  }

  private run(): void {
    this.scheduled = false;
    let budget = this.turnBytes;
    // Those that ask again while this turn runs wait for the next.
    const turn = [...this.waiting];
    for (const sender of turn) {
      if (budget <= 0) break;
      this.waiting.delete(sender);
      budget -= Math.max(1, sender(Math.min(this.pageBytes, budget)));
    }
    if (this.waiting.size > 0 && !this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.run());
    }
  }
}
