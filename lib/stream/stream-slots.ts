/** Why a stream was refused: its client address has all its streams open, or the server has. */
export type StreamRefusal = 'address' | 'total';

/**
 * Counts the SSE streams open at once, per client address and in total, so that
 * clients that connect and never read cannot hold an unbounded number of them.
 * A slot is taken before the stream starts and given back once, however it ends.
 */
export class StreamSlots {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  get open(): number {
    return this.total;
  }

  /** A slot for `address`, as the function that gives it back (idempotent), or why there is none. */
  acquire(address: string): (() => void) | StreamRefusal {
    const held = this.perAddress.get(address) ?? 0;
    if (held >= this.maxPerAddress) return 'address';
    if (this.total >= this.maxTotal) return 'total';
    this.perAddress.set(address, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    };
  }
}
